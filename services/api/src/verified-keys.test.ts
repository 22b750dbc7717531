import type { Redis } from '@threadwork/shared';
import { connectTestRedis, randomPrefix } from '@threadwork/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyGrant } from './auth.js';
import { VerifiedKeys } from './verified-keys.js';

let redis: Redis;

beforeAll(async () => {
  redis = await connectTestRedis('verified-keys-test');
});

afterAll(() => {
  redis.disconnect();
});

const alice: KeyGrant = {
  keyId: 'key_alice',
  role: 'server',
  projectId: 'proj_alice',
  isDeploymentAdmin: false,
  expiresAt: null,
};

function countingLookup(answer: KeyGrant | null) {
  const lookup = async () => {
    lookup.calls += 1;
    return answer;
  };
  lookup.calls = 0;
  return lookup;
}

describe('VerifiedKeys', () => {
  it('looks a valid key up once while it is remembered', async () => {
    const keys = new VerifiedKeys(60_000, `${randomPrefix()}:revoked`);
    const lookup = countingLookup(alice);
    expect(await keys.verify('hash', lookup)).toEqual(alice);
    expect(await keys.verify('hash', lookup)).toEqual(alice);
    expect(lookup.calls).toBe(1);
  });

  it('never remembers an unknown key, nor anything when the cache is off', async () => {
    const unknown = countingLookup(null);
    const keys = new VerifiedKeys(60_000, `${randomPrefix()}:revoked`);
    await keys.verify('nope', unknown);
    await keys.verify('nope', unknown);
    expect(unknown.calls).toBe(2);
    const off = new VerifiedKeys(0, `${randomPrefix()}:revoked`);
    const lookup = countingLookup(alice);
    await off.verify('hash', lookup);
    await off.verify('hash', lookup);
    expect(lookup.calls).toBe(2);
  });

  it('forgets a revoked key at once in this process', async () => {
    const keys = new VerifiedKeys(60_000, `${randomPrefix()}:revoked`);
    await keys.verify('hash', countingLookup(alice));
    await keys.revoke(redis, alice.keyId);
    const lookup = countingLookup(null);
    expect(await keys.verify('hash', lookup)).toBeNull();
    expect(lookup.calls).toBe(1);
  });

  it('does not remember a lookup that a revocation overtook', async () => {
    const keys = new VerifiedKeys(60_000, `${randomPrefix()}:revoked`);
    let answer: (principal: KeyGrant) => void = () => {};
    const slow = keys.verify('hash', () => new Promise<KeyGrant>((resolve) => (answer = resolve)));
    await keys.revoke(redis, alice.keyId);
    answer(alice);
    await slow;
    const lookup = countingLookup(null);
    expect(await keys.verify('hash', lookup)).toBeNull();
    expect(lookup.calls).toBe(1);
  });
});
