import type { Redis } from 'ioredis';

/**
 * How far a signed callback's timestamp may be from now (Slack's and Discord's rule: 5 minutes). A signature is
 * refused outside it, and remembered until it closes.
 */
export const SIGNATURE_WINDOW_S = 300;

/**
 * Refuses a signed callback (Slack, Discord HTTP interactions) whose signature was seen before: within its 5-minute
 * window a captured request would otherwise be accepted again, on any replica. The signature is kept in Redis
 * (`…:replay:<platform>:<signature>`, `SET NX`) until the window of its timestamp closes, so the keys stay bounded.
 */
export class ReplayGuard {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly platform: 'slack' | 'discord',
  ) {}

  /** True the first time this signature is seen; false for a replay. Call only once the signature is verified. */
  async firstSeen(signature: string, timestampS: number): Promise<boolean> {
    // One second past the window's close, so a replay at its last second still finds the key.
    const until = (timestampS + SIGNATURE_WINDOW_S + 1) * 1000;
    const set = await this.redis.set(`${this.prefix}:replay:${this.platform}:${signature.toLowerCase()}`, '1', 'PXAT', until, 'NX');
    return set === 'OK';
  }
}
