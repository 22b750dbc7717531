// Bearer-key authentication: keys are stored as sha256 hashes and belong to a project; the bootstrap admin key is
// registered at start-up as an admin of the whole deployment. A key may act for an end user (`X-Threadwork-User`).
import { createHash, randomBytes } from 'node:crypto';
import { ApiError, type ApiKeyRole, type Db, newId, schema } from '@threadwork/shared';
import { eq } from 'drizzle-orm';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { type EndUserTokens, isJwtShaped } from './end-user-tokens.js';
import type { InvalidCredentials } from './rate-limit.js';
import type { VerifiedKeys } from './verified-keys.js';

/** What a valid key grants, as remembered between requests. */
export interface KeyGrant {
  keyId: string;
  role: ApiKeyRole;
  projectId: string;
  isDeploymentAdmin: boolean;
  /** Milliseconds since the epoch; null: never. */
  expiresAt: number | null;
}

/** Who makes a request: a key of a project, possibly acting for one of the project's end users, or an end user's own token. */
export interface Principal {
  /** The key presented; null for an end user's own token. */
  keyId: string | null;
  role: ApiKeyRole | 'end_user';
  /** The project whose data the request reads and writes (the owner of every row it touches). */
  projectId: string;
  isDeploymentAdmin: boolean;
  /** The end user the request is for: it sees only its own threads. Null: the whole project. */
  endUserId: string | null;
}

export const END_USER_HEADER = 'x-threadwork-user';
export const PROJECT_HEADER = 'x-threadwork-project';

/** End-user ids are the app's own (a database id, a token's `sub`): printable, without spaces, bounded. */
const END_USER_ID = /^[\x21-\x7e]{1,256}$/;

export function parseEndUserId(value: string, source: string): string {
  if (!END_USER_ID.test(value)) {
    throw new ApiError(400, `${source} must be 1 to 256 printable characters without spaces.`, {
      param: source,
      code: 'invalid_end_user',
    });
  }
  return value;
}

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function generateKey(): string {
  return `sk-tw-${randomBytes(24).toString('base64url')}`;
}

/** Makes sure the default project exists, and the bootstrap admin key in it as an admin of the deployment. */
export async function registerAdminKey(db: Db, key: string): Promise<void> {
  await db
    .insert(schema.projects)
    .values({ id: schema.DEFAULT_PROJECT_ID, name: 'Default project' })
    .onConflictDoNothing();
  await db
    .insert(schema.apiKeys)
    .values({
      id: newId('apiKey'),
      projectId: schema.DEFAULT_PROJECT_ID,
      name: 'bootstrap admin',
      keyHash: hashKey(key),
      role: 'admin',
      isDeploymentAdmin: true,
    })
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
  /** Also accept end users' own tokens (JWTs) as bearer credentials. */
  tokens?: EndUserTokens;
  /** Counts refused credentials per client address, and refuses an address over its limit before any lookup. */
  invalid?: InvalidCredentials;
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

/** The key's grant, from memory or Postgres; null when it is unknown, revoked or expired. */
async function lookupKey(db: Db, keys: VerifiedKeys, key: string): Promise<KeyGrant | null> {
  const keyHash = hashKey(key);
  const grant = await keys.verify(keyHash, async () => {
    const { apiKeys } = schema;
    const [row] = await db
      .select({
        keyId: apiKeys.id,
        role: apiKeys.role,
        projectId: apiKeys.projectId,
        isDeploymentAdmin: apiKeys.isDeploymentAdmin,
        expiresAt: apiKeys.expiresAt,
        revokedAt: apiKeys.revokedAt,
      })
      .from(apiKeys)
      .where(eq(apiKeys.keyHash, keyHash));
    if (!row || row.revokedAt) return null;
    return { ...row, expiresAt: row.expiresAt?.getTime() ?? null };
  });
  return grant && (grant.expiresAt === null || grant.expiresAt > Date.now()) ? grant : null;
}

/** The project a deployment admin acts in (`X-Threadwork-Project`); other keys act in their own. */
async function actingProject(db: Db, req: Request, grant: KeyGrant): Promise<string> {
  const asked = req.get(PROJECT_HEADER);
  if (asked === undefined || asked === grant.projectId) return grant.projectId;
  const [project] = grant.isDeploymentAdmin
    ? await db.select({ id: schema.projects.id }).from(schema.projects).where(eq(schema.projects.id, asked))
    : [];
  if (!project) {
    throw new ApiError(403, 'This key cannot act in the project named by X-Threadwork-Project.', {
      type: 'permission_error',
      code: 'project_not_allowed',
    });
  }
  return project.id;
}

/** An end user's own token: the project it is for (`X-Threadwork-Project`) verifies it; `sub` is the end user. */
async function endUserPrincipal(req: Request, tokens: EndUserTokens, token: string): Promise<Principal> {
  const verified = await tokens.verify(token, req.get(PROJECT_HEADER));
  const endUserId = END_USER_ID.test(verified.endUserId) ? verified.endUserId : null;
  if (endUserId === null) {
    throw new ApiError(401, 'Invalid end-user token: its "sub" claim is not accepted.', {
      code: 'invalid_token',
    });
  }
  const actingFor = req.get(END_USER_HEADER);
  if (actingFor !== undefined && actingFor !== endUserId) {
    throw new ApiError(403, 'An end-user token acts only for its own subject.', { type: 'permission_error' });
  }
  return {
    keyId: null,
    role: 'end_user',
    projectId: verified.projectId,
    isDeploymentAdmin: false,
    endUserId,
  };
}

export function authenticate(db: Db, keys: VerifiedKeys, options: AuthenticateOptions = {}): RequestHandler {
  const acceptsBasic = options.acceptsBasic ?? false;
  const { tokens, invalid } = options;
  /** A refused credential counts against the client's address; over the limit, the answer is 429 instead. */
  async function refuse(req: Request, error: ApiError): Promise<never> {
    await invalid?.count(req.ip ?? '');
    throw error;
  }
  return async (req: Request, res: Response, next: NextFunction) => {
    const key = presentedKey(req.get('authorization') ?? '', acceptsBasic);
    if (!key) throw new ApiError(401, MISSING_KEY_MESSAGE, { code: 'missing_api_key' });
    invalid?.refuseBlocked(req.ip ?? '');
    if (tokens && isJwtShaped(key)) {
      const principal = await endUserPrincipal(req, tokens, key).catch((error: unknown) =>
        error instanceof ApiError && error.status === 401 ? refuse(req, error) : Promise.reject(error),
      );
      res.locals.principal = principal;
      return next();
    }
    const grant = await lookupKey(db, keys, key);
    if (!grant) {
      await refuse(
        req,
        new ApiError(401, `Incorrect API key provided: ${maskKey(key)}.`, { code: 'invalid_api_key' }),
      );
      return;
    }
    const endUser = req.get(END_USER_HEADER);
    const principal: Principal = {
      keyId: grant.keyId,
      role: grant.role,
      projectId: await actingProject(db, req, grant),
      isDeploymentAdmin: grant.isDeploymentAdmin,
      endUserId: endUser === undefined ? null : parseEndUserId(endUser, 'X-Threadwork-User'),
    };
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

/** The deployment's admin endpoints (keys of the default project, catalog, feedback, queues). */
export function requireAdmin(_req: Request, res: Response, next: NextFunction): void {
  if (!principalOf(res).isDeploymentAdmin) {
    throw new ApiError(403, 'This endpoint requires an admin key of the deployment.', {
      type: 'permission_error',
    });
  }
  next();
}

/** The caller, refused when it is an end user's own token: what the project's backend manages (assistants). */
export function backendPrincipalOf(res: Response, what: string): Principal {
  const principal = principalOf(res);
  if (principal.role === 'end_user') {
    throw new ApiError(403, `End-user tokens cannot use ${what}; use a key of the project.`, {
      type: 'permission_error',
      code: 'end_user_not_allowed',
    });
  }
  return principal;
}

/** A project's admin endpoints: its own admin keys, or an admin of the deployment. */
export function requireProjectAdmin(_req: Request, res: Response, next: NextFunction): void {
  if (principalOf(res).role !== 'admin') {
    throw new ApiError(403, 'This endpoint requires an admin key.', { type: 'permission_error' });
  }
  next();
}

/** May change the assistants every project sees (those without an owner). */
export function isAdmin(principal: Principal): boolean {
  return principal.isDeploymentAdmin;
}

export interface ThreadOwner {
  ownerId: string;
  endUserId: string | null;
}

/** Who a new thread belongs to: the project, and the end user the request is for. */
export function threadOwnerOf(principal: Principal): ThreadOwner {
  return { ownerId: principal.projectId, endUserId: principal.endUserId };
}
