// TRUST_PROXY: the invalid-credentials limit counts per client address; X-Forwarded-For names that address only when
// the proxy in front is trusted, and is ignored otherwise (a client could pick a new address for each attempt).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../support/stack.js';

let direct: Stack;
let behindProxy: Stack;

const limits = { RATE_LIMIT_INVALID_AUTH_PER_MINUTE: '2' };
const noWorkers = { runWorker: false, toolWorker: false };

beforeAll(async () => {
  [direct, behindProxy] = await Promise.all([
    startStack(limits, noWorkers),
    startStack({ ...limits, TRUST_PROXY: '1' }, noWorkers),
  ]);
});

afterAll(async () => {
  await Promise.all([direct?.close(), behindProxy?.close()]);
});

async function status(stack: Stack, key: string, forwardedFor: string): Promise<number> {
  const response = await fetch(`${stack.api.url}/api/threads`, {
    headers: { authorization: `Bearer ${key}`, 'x-forwarded-for': forwardedFor },
  });
  await response.body?.cancel();
  return response.status;
}

describe('the invalid-credentials limit per client address', () => {
  it('ignores X-Forwarded-For by default: a new address in the header does not reset it', async () => {
    const statuses = [];
    for (const address of ['198.51.100.1', '198.51.100.2', '198.51.100.3', '198.51.100.4']) {
      statuses.push(await status(direct, 'sk-tw-wrong', address));
    }
    expect(statuses).toEqual([401, 401, 429, 429]);
  });

  it("counts per the client's address from X-Forwarded-For with TRUST_PROXY", async () => {
    const { key } = await behindProxy.newUser('behind a balancer');
    const attacker = '203.0.113.7';
    const statuses = [];
    for (let i = 0; i < 3; i += 1) statuses.push(await status(behindProxy, 'sk-tw-wrong', attacker));
    expect(statuses).toEqual([401, 401, 429]);
    expect(await status(behindProxy, key, attacker)).toBe(429);
    // Another client behind the same balancer is not refused for the attacker's attempts.
    expect(await status(behindProxy, 'sk-tw-wrong', '203.0.113.8')).toBe(401);
    expect(await status(behindProxy, key, '203.0.113.8')).toBe(200);
  });
});
