import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';

/** How a stop ended: every step finished, or the grace period ran out while `stuckAt` was still waiting. */
export type StopOutcome = { clean: true } | { clean: false; stuckAt: string };

/** One step of a stop, by the name a warning gives it when the grace period runs out during it. */
export type StopStep = readonly [name: string, run: () => Promise<unknown>];

export interface GracefulStop {
  /** Run one after another. */
  steps: readonly StopStep[];
  /** XMSG_SHUTDOWN_GRACE_S, in ms. */
  graceMs: number;
  /** Cuts what the steps could not close in time (the Redis connections). */
  cut: () => void;
  log: Logger;
}

/**
 * Graceful, and bounded by XMSG_SHUTDOWN_GRACE_S: a step still waiting then (a Redis that went away, a job stuck on a
 * dead node) is named in a warning and the connections are cut; the jobs it held are taken over by another replica
 * once their locks lapse.
 */
export async function stopGracefully({ steps, graceMs, cut, log }: GracefulStop): Promise<StopOutcome> {
  let step = steps[0]?.[0] ?? 'nothing';
  const graceful = (async () => {
    for (const [name, run] of steps) {
      step = name;
      await run();
    }
  })();
  const graceOver = new AbortController();
  const finished = await Promise.race([graceful.then(() => true), delay(graceMs, false, { signal: graceOver.signal, ref: false })]).finally(
    () => graceOver.abort(),
  );
  if (finished) {
    log.info('xmsg stopped');
    return { clean: true };
  }
  graceful.catch(() => undefined);
  log.warn({ step, graceS: graceMs / 1000 }, 'shutdown still waiting after the grace period; cutting connections');
  cut();
  return { clean: false, stuckAt: step };
}
