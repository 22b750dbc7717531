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

/** The key from `Bearer <key>`, or from Basic auth's password so a browser can open the queue dashboard. */
function presentedKey(header: string): string | null {
  const bearer = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
  if (bearer) return bearer;
  const basic = /^Basic\s+(\S+)$/i.exec(header)?.[1];
  if (!basic) return null;
  const decoded = Buffer.from(basic, 'base64').toString('utf8');
  const password = decoded.slice(decoded.indexOf(':') + 1);
  return password.length > 0 ? password : null;
}

export function authenticate(db: Db, keys: VerifiedKeys): RequestHandler {
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
    const key = presentedKey(req.get('authorization') ?? '');
    if (!key) {
      throw new ApiError(
        401,
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        { code: 'missing_api_key' },
      );
    }
    const principal = await lookup(key);
    if (!principal) {
      throw new ApiError(401, `Incorrect API key provided: ${maskKey(key)}.`, { code: 'invalid_api_key' });
    }
    res.locals.principal = principal;
    next();
  };
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
