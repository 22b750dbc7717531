import { loadConfig, type Redis } from '@threadwork/shared';
import { connectTestRedis, randomPrefix } from '@threadwork/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToolRateLimiter } from '../src/rate-limit.js';
import { toolPolicies } from '../src/tool-policy.js';

let redis: Redis;

beforeAll(async () => {
  redis = await connectTestRedis('rate-limit-budgets-test');
});

afterAll(() => {
  redis.disconnect();
});

function limiter(perUser: string, global: string) {
  const config = loadConfig({
    DATABASE_URL: 'postgres://unused@127.0.0.1:5432/unused',
    TOOL_RATE_LIMIT_PER_USER: perUser,
    TOOL_RATE_LIMIT_GLOBAL: global,
  });
  return createToolRateLimiter(redis, toolPolicies(config), randomPrefix());
}

describe('tool rate limit budgets (both taken at once)', () => {
  it("gives the tool's point back when the user's budget refuses the call", async () => {
    const limits = limiter('100/60,list_tables=1/60', '100/60,list_tables=2/60');
    expect(await limits.reserve('alice', 'list_tables')).toBeNull();
    expect(await limits.reserve('alice', 'list_tables')).toMatchObject({ scope: 'user' });
    // Had alice's refused call kept the tool's second point, bob would be refused too.
    expect(await limits.reserve('bob', 'list_tables')).toBeNull();
    expect(await limits.reserve('carol', 'list_tables')).toMatchObject({ scope: 'tool' });
  });

  it("gives the user's point back when the tool's budget refuses the call", async () => {
    const limits = limiter('100/60,list_tables=1/60', '100/60,list_tables=1/60');
    expect(await limits.reserve('alice', 'list_tables')).toBeNull();
    expect(await limits.reserve('bob', 'list_tables')).toMatchObject({ scope: 'tool' });
    // bob's point came back: his own budget still refuses nothing, only the tool's does.
    expect(await limits.reserve('bob', 'list_tables')).toMatchObject({ scope: 'tool' });
  });
});
