// Bearer-key authentication: keys are stored as sha256 hashes; the bootstrap admin key is registered at start-up.
import { createHash, randomBytes } from 'node:crypto';
import { ApiError, type ApiKeyRole, type Db, newId, schema } from '@threadwork/shared';
import { eq } from 'drizzle-orm';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { VerifiedKeys } from './verified-keys.js';

export interface Principal {
  keyId: string;
  role: ApiKeyRole;
}

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function generateKey(): string {
  return `sk-tw-${randomBytes(24).toString('base64url')}`;
}

/** Makes sure the bootstrap admin key exists as an admin key row. */
export async function registerAdminKey(db: Db, key: string): Promise<void> {
  await db
    .insert(schema.apiKeys)
    .values({ id: newId('apiKey'), name: 'bootstrap admin', keyHash: hashKey(key), role: 'admin' })
    .onConflictDoNothing({ target: schema.apiKeys.keyHash });
}

function maskKey(key: string): string {
  return key.length <= 8 ? '****' : `${key.slice(0, 6)}****${key.slice(-4)}`;
}

export interface AuthenticateOptions {
  /**
   * Also read the key from Basic auth's password. Only the queue dashboard does, so a browser can ask for the key:
   * a browser then sends those credentials with every request to the site, even one another site makes it send.
   */
  acceptsBasic?: boolean;
}

const MISSING_KEY_MESSAGE =
  "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).";

/** The key from `Bearer <key>`, or from Basic auth's password when `acceptsBasic`. */
function presentedKey(header: string, acceptsBasic: boolean): string | null {
  const bearer = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
  if (bearer) return bearer;
  const basic = /^Basic\s+(\S+)$/i.exec(header)?.[1];
  if (!basic) return null;
  if (!acceptsBasic) {
    throw new ApiError(
      401,
      'Basic authentication is accepted only by the queue dashboard. Send your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).',
      { code: 'invalid_authorization_scheme' },
    );
  }
  const decoded = Buffer.from(basic, 'base64').toString('utf8');
  const password = decoded.slice(decoded.indexOf(':') + 1);
  return password.length > 0 ? password : null;
}

export function authenticate(db: Db, keys: VerifiedKeys, options: AuthenticateOptions = {}): RequestHandler {
  const acceptsBasic = options.acceptsBasic ?? false;
  function lookup(key: string): Promise<Principal | null> {
    const keyHash = hashKey(key);
    return keys.verify(keyHash, async () => {
      const [row] = await db
        .select({ id: schema.apiKeys.id, role: schema.apiKeys.role, revokedAt: schema.apiKeys.revokedAt })
        .from(schema.apiKeys)
        .where(eq(schema.apiKeys.keyHash, keyHash));
      return row && !row.revokedAt ? { keyId: row.id, role: row.role } : null;
    });
  }
  return async (req: Request, res: Response, next: NextFunction) => {
    const key = presentedKey(req.get('authorization') ?? '', acceptsBasic);
    if (!key) throw new ApiError(401, MISSING_KEY_MESSAGE, { code: 'missing_api_key' });
    const principal = await lookup(key);
    if (!principal) {
      throw new ApiError(401, `Incorrect API key provided: ${maskKey(key)}.`, { code: 'invalid_api_key' });
    }
    res.locals.principal = principal;
    next();
  };
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** True when the browser says another site (or a sibling subdomain) made the request. */
function isCrossSite(req: Request): boolean {
  const fetchSite = req.get('sec-fetch-site');
  if (fetchSite !== undefined && fetchSite !== 'same-origin' && fetchSite !== 'none') return true;
  const origin = req.get('origin');
  if (origin === undefined) return false;
  try {
    return new URL(origin).host !== req.get('host');
  } catch {
    // `Origin: null` (a sandboxed frame, a redirect across sites) names no origin at all.
    return true;
  }
}

/**
 * Refuses state-changing requests that a browser made on another site's behalf (CSRF): browsers send
 * `Sec-Fetch-Site` and `Origin`, servers and curl send neither. Reads stay open: another site cannot read them.
 */
export function refuseCrossSiteWrites(req: Request, _res: Response, next: NextFunction): void {
  if (!SAFE_METHODS.has(req.method) && isCrossSite(req)) {
    throw new ApiError(403, 'Cross-site requests may not change admin state.', {
      type: 'permission_error',
      code: 'cross_site_request',
    });
  }
  next();
}

export function principalOf(res: Response): Principal {
  const principal = res.locals.principal as Principal | undefined;
  if (!principal) throw new ApiError(401, 'Not authenticated.');
  return principal;
}

export function requireAdmin(_req: Request, res: Response, next: NextFunction): void {
  if (principalOf(res).role !== 'admin') {
    throw new ApiError(403, 'This endpoint requires an admin key.', { type: 'permission_error' });
  }
  next();
}

export function isAdmin(principal: Principal): boolean {
  return principal.role === 'admin';
}
