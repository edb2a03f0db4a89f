import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * The deployment marker, `…:deployment` (docs/ARCHITECTURE.md §3, "state loss is detected"): a random id and its
 * creation time, written once by the first replica of a deployment and never changed or expired afterwards. Every
 * replica holds it in memory; a marker that vanished or changed means Redis lost xmsg's state (it came back empty, or
 * failed over to a replica that had not synced), which nothing else in Redis could tell.
 */
export interface DeploymentMarker {
  /** 12 hex digits; also carried by the alert buttons, so a button of an earlier state is recognised. */
  id: string;
  /** ms since the epoch */
  createdAt: number;
}

/** What a deployment id looks like where it comes back from outside (button values): lenient, but never a separator. */
export const DEPLOYMENT_ID = /^[0-9a-z]{1,32}$/;

export function newDeploymentMarker(now = Date.now()): DeploymentMarker {
  return { id: randomBytes(6).toString('hex'), createdAt: now };
}

/** The marker's value: `<id>|<createdAt>`. */
export const formatDeploymentMarker = (m: DeploymentMarker) => `${m.id}|${m.createdAt}`;

/** The marker from its value; undefined for nothing or for a value xmsg did not write (treated as a vanished marker). */
export function parseDeploymentMarker(raw: string | null | undefined): DeploymentMarker | undefined {
  const [id, createdAt, ...rest] = (raw ?? '').split('|');
  if (!id || !DEPLOYMENT_ID.test(id) || !createdAt || !/^\d{1,15}$/.test(createdAt) || rest.length) return undefined;
  return { id, createdAt: Number(createdAt) };
}

export async function readDeploymentMarker(redis: Redis, key: string): Promise<DeploymentMarker | undefined> {
  return parseDeploymentMarker(await redis.get(key));
}

/**
 * The marker Redis holds, created (SET NX) when there is none: by the first replica of a deployment, or by the
 * replica that re-creates it after a loss. Replicas racing here agree on one marker; `created` says whether it is
 * this call's.
 */
export async function ensureDeploymentMarker(
  redis: Redis,
  key: string,
  now = Date.now(),
): Promise<{ marker: DeploymentMarker; created: boolean }> {
  for (;;) {
    const fresh = newDeploymentMarker(now);
    if ((await redis.set(key, formatDeploymentMarker(fresh), 'NX')) === 'OK') return { marker: fresh, created: true };
    const raw = await redis.get(key);
    const marker = parseDeploymentMarker(raw);
    if (marker) return { marker, created: false };
    // Not one xmsg wrote (or deleted between the two calls): replace it, as a vanished marker would be.
    if (raw !== null) await redis.del(key);
  }
}
