// API keys verified recently, so a request costs no key lookup; a revocation is broadcast to every API process.
import type { ChannelSubscriber, RedisConnection } from '@threadwork/shared';
import type { KeyGrant } from './auth.js';

interface Entry {
  grant: KeyGrant;
  until: number;
}

/** Bounds the memory a flood of distinct valid keys can take; the oldest entries go first. */
const MAX_ENTRIES = 10_000;

export class VerifiedKeys {
  private readonly entries = new Map<string, Entry>();
  /** Bumped by every revocation: a lookup that started before one must not be remembered after it. */
  private revocations = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly channel: string,
  ) {}

  /** Forgets keys revoked by any API process; resolves once Redis confirmed the subscription. */
  async follow(subscriber: ChannelSubscriber): Promise<void> {
    await subscriber.subscribe(this.channel, (keyId) => this.forget(keyId));
  }

  /** The key's grant from memory, or from `lookup` (remembered only when valid). */
  async verify(keyHash: string, lookup: () => Promise<KeyGrant | null>): Promise<KeyGrant | null> {
    const entry = this.entries.get(keyHash);
    if (entry && entry.until > Date.now()) return entry.grant;
    if (entry) this.entries.delete(keyHash);
    const revocations = this.revocations;
    const grant = await lookup();
    if (grant && this.ttlMs > 0 && revocations === this.revocations) this.remember(keyHash, grant);
    return grant;
  }

  /** Call after the revocation is committed: this process forgets the key now, the others when the message lands. */
  async revoke(redis: RedisConnection, keyId: string): Promise<void> {
    this.forget(keyId);
    await redis.publish(this.channel, keyId);
  }

  private remember(keyHash: string, grant: KeyGrant): void {
    if (this.entries.size >= MAX_ENTRIES) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(keyHash, { grant, until: Date.now() + this.ttlMs });
  }

  private forget(keyId: string): void {
    this.revocations += 1;
    for (const [hash, entry] of this.entries) {
      if (entry.grant.keyId === keyId) this.entries.delete(hash);
    }
  }
}
