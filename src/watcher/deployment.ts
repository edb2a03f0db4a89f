import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { StateLostEvent } from '../events/types.js';
import type { EventOutbox } from '../jobs/events-outbox.js';
import { type DeploymentMarker, ensureDeploymentMarker } from '../store/deployment.js';

export interface DeploymentWatchDeps {
  redis: Redis;
  /** `…:deployment` */
  key: string;
  outbox: EventOutbox;
  log: Logger;
  /** Runs once per loss this replica notices, before it adopts the new marker: re-applies settings kept in Redis. */
  onLoss?: () => Promise<void>;
}

const LOSS_REPORT_WINDOW_MS = 3_600_000;

/**
 * The replica's side of the deployment marker (src/store/deployment.ts, docs/ARCHITECTURE.md §3): read or created at
 * start and held in memory, then compared with the marker each follower reads with its cursor on every poll. When the
 * marker vanished or changed, Redis lost xmsg's state: the replica re-creates it (SET NX, so of replicas noticing at
 * once one creates and the others adopt it) and publishes the `state_lost` event. Its id names the new marker, so
 * every replica that notices the same loss publishes the same event, collapsed into one alert; the adopters publish
 * too, because a marker may also have been re-created by a replica started afresh on the emptied Redis, which could
 * not know it replaced one. The followers then write back the cursors they remember instead of starting at the head.
 */
export class DeploymentWatch {
  private marker?: DeploymentMarker;
  /** A marker that replaced one this replica saw lost, and when: while it is current, followers report re-scans. */
  private replacedLost?: { id: string; at: number };
  private handling?: Promise<void>;
  private readonly redis: Redis;
  private readonly key: string;
  private readonly outbox: EventOutbox;
  private readonly log: Logger;
  private readonly onLoss?: () => Promise<void>;

  constructor(deps: DeploymentWatchDeps) {
    this.redis = deps.redis;
    this.key = deps.key;
    this.outbox = deps.outbox;
    this.log = deps.log;
    this.onLoss = deps.onLoss;
  }

  /**
   * Reads the marker, creating it when Redis has none: the first replica of a deployment. A replica that starts on a
   * Redis that lost its state while no replica ran cannot tell, and starts as on a new deployment.
   */
  async start(): Promise<DeploymentMarker> {
    const { marker, created } = await ensureDeploymentMarker(this.redis, this.key);
    this.marker = marker;
    this.log.info(
      { deployment: marker.id, since: new Date(marker.createdAt).toISOString() },
      created ? 'new deployment' : 'joined deployment',
    );
    return marker;
  }

  /** The marker of the state this replica works in. */
  get current(): DeploymentMarker {
    if (!this.marker) throw new Error('DeploymentWatch used before start()');
    return this.marker;
  }

  /**
   * True while the current marker is one this replica adopted after seeing the previous one lost, within the hour
   * after: the followers resume within a poll, and a cursor missing much later is not that loss's re-scan.
   */
  get afterLoss(): boolean {
    const r = this.replacedLost;
    return r !== undefined && r.id === this.marker?.id && Date.now() - r.at < LOSS_REPORT_WINDOW_MS;
  }

  /**
   * Compares the marker as a follower just read it (undefined: none) with the one held; a difference is a state loss,
   * handled once per replica at a time. Resolves when this replica has dealt with it: the caller's next reads and
   * writes belong to the new state.
   */
  async observe(seen: DeploymentMarker | undefined): Promise<void> {
    if (seen && seen.id === this.current.id) return;
    // Concurrent followers noticing the same loss wait for one handling; a further change is seen on their next poll.
    this.handling ??= this.onChanged(seen).finally(() => {
      this.handling = undefined;
    });
    await this.handling;
  }

  private async onChanged(seen: DeploymentMarker | undefined): Promise<void> {
    const lost = this.current;
    const { marker, created } = seen ? { marker: seen, created: false } : await ensureDeploymentMarker(this.redis, this.key);
    // A read from before this replica adopted the marker now in Redis: nothing more has changed.
    if (marker.id === lost.id) return;
    const event: StateLostEvent = {
      id: `state_lost-${marker.id}`,
      type: 'state_lost',
      at: Date.now(),
      lost: { id: lost.id, createdAt: lost.createdAt },
      deployment: { id: marker.id, createdAt: marker.createdAt },
    };
    // Published before the new marker is adopted: a failure here leaves the old one in memory, so the next poll notices
    // the change again and publishes the same event, instead of the loss going unreported.
    await this.outbox.publish(event);
    await this.onLoss?.();
    this.marker = marker;
    this.replacedLost = { id: marker.id, at: Date.now() };
    this.log.error(
      { lost: lost.id, lostSince: new Date(lost.createdAt).toISOString(), deployment: marker.id, recreated: created },
      'Redis lost xmsg state (the deployment marker vanished or changed): cursors, tracked messages, alerts and silences are gone; re-scanning from the cursors this replica remembers',
    );
  }
}
