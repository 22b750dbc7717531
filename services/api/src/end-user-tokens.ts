// End users' own tokens (JWTs), verified with `jose` against their project's settings: an HS256 secret (Supabase's
// JWT secret works as is) and/or a JWKS URL, plus the issuer and audience the token must name. `sub` is the end user.
import { ApiError, type Config, type Db, schema } from '@threadwork/shared';
import { eq } from 'drizzle-orm';
import {
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
  jwtVerify,
} from 'jose';

/** How a project verifies its end users' tokens; a project with neither a secret nor a JWKS URL accepts none. */
export interface EndUserAuth {
  jwtSecret: string | null;
  jwksUrl: string | null;
  issuer: string | null;
  audience: string | null;
}

/** Signature algorithms a JWKS may verify: asymmetric only, so a public key is never taken for an HMAC secret. */
const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/** Three base64url parts (the last empty for `alg: none`): a JWT, not a key. */
export function isJwtShaped(credential: string): boolean {
  return /^eyJ[\w-]*\.[\w-]+\.[\w-]*$/.test(credential);
}

function invalidToken(reason: string): ApiError {
  return new ApiError(401, `Invalid end-user token: ${reason}.`, { code: 'invalid_token' });
}

/** Why jose refused a token, in words that name no key material. */
function reasonOf(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'it has expired';
  if (error instanceof errors.JWTClaimValidationFailed) return `its "${error.claim}" claim is not accepted`;
  if (error instanceof errors.JOSEAlgNotAllowed) return 'its algorithm is not accepted';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'its signature does not verify';
  if (error instanceof errors.JWKSNoMatchingKey) return 'no key of the project signed it';
  return 'it cannot be verified';
}

export interface VerifiedEndUser {
  projectId: string;
  endUserId: string;
}

interface CachedAuth {
  auth: EndUserAuth | null;
  until: number;
}

export class EndUserTokens {
  private readonly settings = new Map<string, CachedAuth>();
  private readonly keySets = new Map<string, JWTVerifyGetKey>();

  constructor(
    private readonly db: Db,
    private readonly config: Config,
  ) {}

  /** The end user the token names, in the project it is for (the default one unless `projectId` says otherwise). */
  async verify(token: string, projectId: string = schema.DEFAULT_PROJECT_ID): Promise<VerifiedEndUser> {
    const auth = await this.authOf(projectId);
    if (!auth || (!auth.jwtSecret && !auth.jwksUrl))
      throw invalidToken('the project accepts no end-user tokens');
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw invalidToken('it cannot be read');
    }
    const options: JWTVerifyOptions = {
      issuer: auth.issuer ?? undefined,
      audience: auth.audience ?? undefined,
      requiredClaims: ['sub', 'exp'],
    };
    try {
      // The secret verifies HS256 only, the JWKS asymmetric algorithms only: the header's `alg` picks which, never how.
      const { payload } =
        auth.jwtSecret && (alg === 'HS256' || !auth.jwksUrl)
          ? await jwtVerify(token, new TextEncoder().encode(auth.jwtSecret), {
              ...options,
              algorithms: ['HS256'],
            })
          : await jwtVerify(token, this.keySetOf(auth.jwksUrl ?? ''), { ...options, algorithms: ASYMMETRIC });
      if (typeof payload.sub !== 'string' || payload.sub.length === 0)
        throw invalidToken('it names no subject');
      return { projectId, endUserId: payload.sub };
    } catch (error) {
      if (error instanceof ApiError) throw error;
      throw invalidToken(reasonOf(error));
    }
  }

  /** Forgets a project's settings after they change (other API processes within AUTH_CACHE_MS). */
  forget(projectId: string): void {
    this.settings.delete(projectId);
  }

  private keySetOf(url: string): JWTVerifyGetKey {
    let keySet = this.keySets.get(url);
    if (!keySet) {
      keySet = createRemoteJWKSet(new URL(url));
      this.keySets.set(url, keySet);
    }
    return keySet;
  }

  private async authOf(projectId: string): Promise<EndUserAuth | null> {
    const cached = this.settings.get(projectId);
    if (cached && cached.until > Date.now()) return cached.auth;
    const [row] = await this.db
      .select({
        jwtSecret: schema.projects.jwtSecret,
        jwksUrl: schema.projects.jwksUrl,
        issuer: schema.projects.jwtIssuer,
        audience: schema.projects.jwtAudience,
      })
      .from(schema.projects)
      .where(eq(schema.projects.id, projectId));
    const auth = row ? this.withEnvironment(projectId, row) : null;
    this.settings.set(projectId, { auth, until: Date.now() + this.config.AUTH_CACHE_MS });
    return auth;
  }

  /** The default project's unset settings come from the environment (AUTH_JWT_*). */
  private withEnvironment(projectId: string, auth: EndUserAuth): EndUserAuth {
    if (projectId !== schema.DEFAULT_PROJECT_ID) return auth;
    const { config } = this;
    return {
      jwtSecret: auth.jwtSecret ?? config.AUTH_JWT_SECRET ?? null,
      jwksUrl: auth.jwksUrl ?? config.AUTH_JWKS_URL ?? null,
      issuer: auth.issuer ?? config.AUTH_JWT_ISSUER ?? null,
      audience: auth.audience ?? config.AUTH_JWT_AUDIENCE ?? null,
    };
  }
}
