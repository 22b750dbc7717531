import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../support/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ RATE_LIMIT_PER_MINUTE: '3' });
});

afterAll(async () => {
  await stack?.close();
});

describe('per-key request rate limits', () => {
  it('answers 429 with Retry-After once a key used its requests, and leaves other keys alone', async () => {
    const alice = await stack.newUser('alice');
    const bob = await stack.newUser('bob');
    for (let i = 0; i < 3; i += 1) await alice.client.beta.assistants.list();
    const limited = await fetch(`${stack.baseURL}/assistants`, {
      headers: { authorization: `Bearer ${alice.key}` },
    });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await limited.json()).toMatchObject({
      error: { type: 'rate_limit_error', code: 'rate_limit_exceeded' },
    });
    await expect(alice.client.beta.assistants.list()).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    await expect(bob.client.beta.assistants.list()).resolves.toHaveProperty('data');
  });
});
