// The web chat page: static files from services/api/public, served with a Content-Security-Policy that allows
// no inline script, so even a slip in escaping model output could not run code.
import { fileURLToPath } from 'node:url';
import express, { type RequestHandler } from 'express';

const PUBLIC_DIR = fileURLToPath(new URL('../../public', import.meta.url));

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

export function webChatPage(): RequestHandler {
  return express.static(PUBLIC_DIR, {
    index: 'index.html',
    setHeaders: (res) => {
      res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.setHeader('Referrer-Policy', 'no-referrer');
    },
  });
}
