import type { Redis } from 'ioredis';

const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * A Redis lease that makes one replica at a time the follower of a chain. It expires on its own when the
 * holder dies, so another replica takes over within `ttlMs`; writes that need it are fenced by `holds`.
 */
export class Lease {
  constructor(
    private readonly redis: Redis,
    readonly key: string,
    readonly owner: string,
    readonly ttlMs: number,
  ) {}

  /** Takes the lease if free, or extends it if already ours. */
  async acquireOrRenew(): Promise<boolean> {
    const taken = await this.redis.set(this.key, this.owner, 'PX', this.ttlMs, 'NX');
    if (taken === 'OK') return true;
    return (await this.redis.eval(RENEW, 1, this.key, this.owner, this.ttlMs)) === 1;
  }

  async release(): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.key, this.owner);
  }
}

/** Lua guard shared by fenced writes: the script proceeds only while KEYS[1] (the lease) is held by ARGV[1]. */
export const FENCE = `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end`;
