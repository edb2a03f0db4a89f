import type { Redis } from 'ioredis';
import { defineScript, loadScripts } from '../store/scripts.js';

const isOne = (raw: unknown) => raw === 1;
const renewLease = defineScript(new URL('./lua/renewLease-1.lua', import.meta.url), {
  keys: ['lease'],
  args: ['owner', 'ttlMs'],
  reply: isOne,
});
const reclaimLease = defineScript(new URL('./lua/reclaimLease-1.lua', import.meta.url), {
  keys: ['lease'],
  args: ['owner', 'replica', 'ttlMs'],
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
 * `lua/includes/holds_lease.lua`. A replica with a stable id (`replica`, the owner id being `<replica>|<run>`) that
 * was killed and started again takes its own earlier run's lease over at once instead of waiting for it to expire.
 */
export class Lease {
  /** Only the first attempt may take over an earlier run's lease (lua/reclaimLease-1.lua says why). */
  private firstAttempt = true;

  constructor(
    private readonly redis: Redis,
    readonly key: string,
    readonly owner: string,
    readonly ttlMs: number,
    readonly replica?: string,
  ) {
    if (replica !== undefined && !owner.startsWith(`${replica}|`)) throw new Error(`lease owner ${owner} is not of replica ${replica}`);
    loadScripts(redis);
  }

  /** Takes the lease if free, or extends it if already ours; on the first attempt, reclaims an earlier run's. */
  async acquireOrRenew(): Promise<boolean> {
    const first = this.firstAttempt;
    this.firstAttempt = false;
    const taken = await this.redis.set(this.key, this.owner, 'PX', this.ttlMs, 'NX');
    if (taken === 'OK') return true;
    if (await renewLease.run(this.redis, { lease: this.key, owner: this.owner, ttlMs: this.ttlMs })) return true;
    if (!first || this.replica === undefined) return false;
    return reclaimLease.run(this.redis, { lease: this.key, owner: this.owner, replica: this.replica, ttlMs: this.ttlMs });
  }

  async release(): Promise<void> {
    await releaseLease.run(this.redis, { lease: this.key, owner: this.owner });
  }
}
