// End users' own tokens: verified with jose against the project's settings (the default project's from AUTH_JWT_*,
// another's through the admin API and picked with X-Threadwork-Project); every forged or stale token answers 401.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, type Stack, sdkClient, startStack } from '../support/stack.js';

/** As Supabase issues them: an HS256 secret, the audience `authenticated`, the project's auth URL as issuer. */
const SECRET = 'super-secret-jwt-token-with-at-least-32-characters-long';
const ISSUER = 'https://example.supabase.co/auth/v1';
const AUDIENCE = 'authenticated';

let stack: Stack;
let jwks: Server;
let rsa: Awaited<ReturnType<typeof generateKeyPair>>;
/** A project whose end users' tokens are RS256, verified through a JWKS URL. */
let jwksProject: string;

const encoder = new TextEncoder();
const now = () => Math.floor(Date.now() / 1000);

function hs256(claims: JWTPayload, secret = SECRET, overrides: { exp?: number } = {}): Promise<string> {
  return new SignJWT({ role: 'authenticated', iss: ISSUER, aud: AUDIENCE, ...claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt()
    .setExpirationTime(overrides.exp ?? now() + 3600)
    .sign(encoder.encode(secret));
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

async function call(
  method: string,
  path: string,
  credential: string,
  headers: Record<string, string> = {},
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> & { error?: Record<string, unknown> } }> {
  const response = await fetch(`${stack.api.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${credential}`, 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as never };
}

beforeAll(async () => {
  rsa = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(rsa.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  jwks = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
  stack = await startStack({ AUTH_JWT_SECRET: SECRET, AUTH_JWT_ISSUER: ISSUER, AUTH_JWT_AUDIENCE: AUDIENCE });
  const project = await stack.adminPost<{ id: string }>('/admin/projects', {
    name: 'phones',
    end_user_auth: { jwks_url: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json` },
  });
  jwksProject = project.id;
});

afterAll(async () => {
  await stack?.close();
  await new Promise((resolve) => jwks?.close(resolve));
});

describe('an end user signed in with an HS256 token (Supabase)', () => {
  it('uses its own threads through the SDK and the chat API, and is the same end user a server key acts for', async () => {
    const alice = sdkClient(stack.baseURL, await hs256({ sub: 'alice' }));
    const thread = await alice.beta.threads.create({
      messages: [{ role: 'user', content: 'from my phone' }],
    });
    expect((await alice.beta.threads.messages.list(thread.id)).data).toHaveLength(1);
    const chat = await call('POST', '/api/chat', await hs256({ sub: 'alice' }), {}, { message: 'hello' });
    expect(chat.status).toBe(200);

    const { key } = await stack.adminPost<{ key: string }>('/admin/keys', { name: 'backend' });
    const backendForAlice = sdkClient(stack.baseURL, key).withOptions({
      defaultHeaders: { 'X-Threadwork-User': 'alice' },
    });
    expect((await backendForAlice.beta.threads.retrieve(thread.id)).id).toBe(thread.id);

    const bob = sdkClient(stack.baseURL, await hs256({ sub: 'bob' }));
    await expect(bob.beta.threads.retrieve(thread.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    const bobsThreads = await call('GET', '/api/threads', await hs256({ sub: 'bob' }));
    expect(bobsThreads.body.data).toEqual([]);
  });

  it('cannot use assistants, keys, projects or the catalog (403)', async () => {
    const token = await hs256({ sub: 'alice' });
    for (const [method, path] of [
      ['GET', '/v1/assistants'],
      ['POST', '/v1/assistants'],
      ['GET', '/admin/keys'],
      ['POST', '/admin/keys'],
      ['GET', '/admin/projects'],
      ['POST', '/admin/catalog'],
      ['POST', '/admin/projects/proj_default/catalog'],
    ] as const) {
      const answer = await call(
        method,
        path,
        token,
        {},
        method === 'POST' ? { name: 'x', model: 'offline' } : undefined,
      );
      expect(answer.status, `${method} ${path}`).toBe(403);
      expect(answer.body.error?.type).toBe('permission_error');
    }
  });

  it('acts only for its own subject', async () => {
    const answer = await call('GET', '/api/threads', await hs256({ sub: 'alice' }), {
      'x-threadwork-user': 'bob',
    });
    expect(answer.status).toBe(403);
  });
});

describe('forged and stale tokens', () => {
  const attacks: [string, () => Promise<string>, Record<string, string>?][] = [
    [
      'alg: none',
      async () =>
        `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ sub: 'alice', aud: AUDIENCE, iss: ISSUER, exp: now() + 3600 })}.`,
    ],
    ['a wrong key', () => hs256({ sub: 'alice' }, 'another-secret-of-at-least-32-characters!!')],
    ['an expired token', () => hs256({ sub: 'alice' }, SECRET, { exp: now() - 60 })],
    ['a wrong issuer', () => hs256({ sub: 'alice', iss: 'https://evil.example/auth/v1' })],
    ['a wrong audience', () => hs256({ sub: 'alice', aud: 'anon' })],
    ['no subject', () => hs256({})],
    [
      'algorithm confusion (HS256 signed with the RS256 public key)',
      async () =>
        new SignJWT({ sub: 'alice' })
          .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
          .setExpirationTime(now() + 3600)
          .sign(encoder.encode(await exportSPKI(rsa.publicKey))),
      { 'x-threadwork-project': 'JWKS' },
    ],
    ['a token of another project', () => hs256({ sub: 'alice' }), { 'x-threadwork-project': 'JWKS' }],
    ['a project that does not exist', () => hs256({ sub: 'alice' }), { 'x-threadwork-project': 'proj_nope' }],
  ];

  for (const [name, forge, headers] of attacks) {
    it(`refuses ${name} with 401 in the OpenAI error shape`, async () => {
      const project =
        headers?.['x-threadwork-project'] === 'JWKS' ? { 'x-threadwork-project': jwksProject } : headers;
      const answer = await call('GET', '/api/threads', await forge(), project);
      expect(answer.status).toBe(401);
      expect(answer.body).toEqual({
        error: {
          message: expect.any(String),
          type: 'invalid_request_error',
          param: null,
          code: 'invalid_token',
        },
      });
    });
  }

  it("accepts the JWKS project's own RS256 tokens, chosen with X-Threadwork-Project", async () => {
    const token = await new SignJWT({ sub: 'carol' })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setExpirationTime(now() + 3600)
      .sign(rsa.privateKey);
    expect((await call('GET', '/api/threads', token, { 'x-threadwork-project': jwksProject })).status).toBe(
      200,
    );
    expect((await call('GET', '/api/threads', token)).status).toBe(401);
  });
});

describe('project settings through the admin API', () => {
  it('sets an HS256 secret, issuer and audience, never shows the secret, and verifies with them at once', async () => {
    const project = await stack.adminPost<{ id: string }>('/admin/projects', { name: 'web' });
    const secret = 'web-project-secret-of-at-least-32-chars';
    const before = await call('GET', '/api/threads', await hs256({ sub: 'x' }, secret), {
      'x-threadwork-project': project.id,
    });
    expect(before.status).toBe(401);
    const changed = await call(
      'POST',
      `/admin/projects/${project.id}`,
      ADMIN_KEY,
      {},
      {
        end_user_auth: { jwt_secret: secret, issuer: ISSUER, audience: AUDIENCE },
      },
    );
    expect(changed.body.end_user_auth).toEqual({
      has_jwt_secret: true,
      jwks_url: null,
      issuer: ISSUER,
      audience: AUDIENCE,
    });
    expect(JSON.stringify(changed.body)).not.toContain(secret);
    const after = await call('GET', '/api/threads', await hs256({ sub: 'x' }, secret), {
      'x-threadwork-project': project.id,
    });
    expect(after.status).toBe(200);
  });
});
