import type { Redis } from 'ioredis';
import { defineScript, loadScripts } from '../store/scripts.js';

const isOne = (raw: unknown) => raw === 1;
const renewLease = defineScript(new URL('./lua/renewLease-1.lua', import.meta.url), {
  keys: ['lease'],
  args: ['owner', 'ttlMs'],
  reply: isOne,
});
const releaseLease = defineScript(new URL('./lua/releaseLease-1.lua', import.meta.url), {
  keys: ['lease'],
  args: ['owner'],
  reply: isOne,
});

/**
 * A Redis lease that makes one replica at a time the follower of a chain. It expires on its own when the
 * holder dies, so another replica takes over within `ttlMs`; writes that need it are fenced by scripts that include
 * `lua/includes/holds_lease.lua`.
 */
export class Lease {
  constructor(
    private readonly redis: Redis,
    readonly key: string,
    readonly owner: string,
    readonly ttlMs: number,
  ) {
    loadScripts(redis);
  }

  /** Takes the lease if free, or extends it if already ours. */
  async acquireOrRenew(): Promise<boolean> {
    const taken = await this.redis.set(this.key, this.owner, 'PX', this.ttlMs, 'NX');
    if (taken === 'OK') return true;
    return renewLease.run(this.redis, { lease: this.key, owner: this.owner, ttlMs: this.ttlMs });
  }

  async release(): Promise<void> {
    await releaseLease.run(this.redis, { lease: this.key, owner: this.owner });
  }
}
