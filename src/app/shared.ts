import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics.js';

/** What most parts of a replica take besides their own collaborators. */
export interface Shared {
  /** Every command but BullMQ's (auto-pipelined). */
  redis: Redis;
  /** BullMQ's connection (maxRetriesPerRequest: null). */
  connection: Redis;
  prefix: string;
  metrics: Metrics;
  log: Logger;
}
