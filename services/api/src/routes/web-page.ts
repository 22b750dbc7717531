// The web chat page: static files from services/api/public (the demo catalog's product pictures under
// /static/products/ among them) and the two browser modules it imports (marked, DOMPurify) from their npm packages,
// served with a Content-Security-Policy that allows no inline script, so even a slip in escaping model output could
// not run code.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Router } from 'express';

const PUBLIC_DIR = fileURLToPath(new URL('../../public', import.meta.url));
const resolvePackage = createRequire(import.meta.url).resolve;
/** The page imports /vendor/marked/marked.esm.js and /vendor/dompurify/purify.es.mjs. */
const VENDOR_DIRS = {
  marked: dirname(resolvePackage('marked')),
  dompurify: dirname(resolvePackage('dompurify')),
};

const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' https: http: data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

function setPageHeaders(res: express.Response): void {
  res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
}

export function webChatPage(): Router {
  const router = express.Router();
  router.use(express.static(PUBLIC_DIR, { index: 'index.html', setHeaders: setPageHeaders }));
  for (const [name, dir] of Object.entries(VENDOR_DIRS)) {
    router.use(`/vendor/${name}`, express.static(dir, { index: false, setHeaders: setPageHeaders }));
  }
  return router;
}
