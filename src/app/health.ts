import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { HealthReport } from '../../commands/handlers.js';
import type { FailsafeEndpointState } from '../alerts/failsafe.js';
import type { ParkedAlert } from '../alerts/notifier.js';
import { queueDepths } from '../jobs/queue-depths.js';
import { readHeads } from '../store/heads.js';
import type { Keys } from '../store/keys.js';

export interface HealthDeps {
  redis: Redis;
  keys: Keys;
  chainIds: number[];
  /** Every queue of the replica by name. */
  queues: Record<string, Queue>;
  /** Alerts whose chat deliveries are parked (the chat outbox's `parked()`). */
  parked: () => Promise<ParkedAlert[]>;
  /** The interop failsafe's endpoints as last read, when it is configured. */
  failsafe?: () => Promise<FailsafeEndpointState[]>;
}

/**
 * The health report of `/xmsg health` and the console's chain bar: each chain's heads, cursor and health as its
 * follower recorded them in Redis (so every replica reports the same), the depth of every queue, and the alerts whose
 * chat deliveries are parked.
 */
export function healthReporter({ redis, keys, chainIds, queues, parked, failsafe }: HealthDeps): () => Promise<HealthReport> {
  return async () => ({
    chains: await Promise.all(
      chainIds.map(async (chainId) => {
        const [heads, health] = await Promise.all([readHeads(redis, keys, chainId), redis.hgetall(keys.health(chainId))]);
        return {
          chainId,
          latest: heads.latest,
          safe: heads.safe,
          finalized: heads.finalized,
          cursor: heads.cursor,
          healthy: health.healthy !== '0',
          reason: health.reason,
        };
      }),
    ),
    queues: await queueDepths(queues),
    parked: await parked(),
    ...(failsafe ? { failsafe: await failsafe() } : {}),
  });
}
