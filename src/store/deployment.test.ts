import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DEPLOYMENT_ID,
  ensureDeploymentMarker,
  formatDeploymentMarker,
  newDeploymentMarker,
  parseDeploymentMarker,
  readDeploymentMarker,
} from './deployment.js';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const prefix = `xmsgtest-deployment-${randomUUID().slice(0, 8)}`;
let n = 0;
const key = () => `${prefix}:deployment:${++n}`;

afterAll(async () => {
  for await (const found of redis.scanStream({ match: `${prefix}:*`, count: 1000 })) if (found.length) await redis.del(...found);
  await redis.quit();
});

describe('the deployment marker', () => {
  it('is a fresh id and its creation time, written and read back', () => {
    const m = newDeploymentMarker(1_700_000_000_000);
    expect(m.id).toMatch(/^[0-9a-f]{12}$/);
    expect(m.id).toMatch(DEPLOYMENT_ID);
    expect(newDeploymentMarker().id).not.toBe(m.id);
    expect(formatDeploymentMarker(m)).toBe(`${m.id}|1700000000000`);
    expect(parseDeploymentMarker(formatDeploymentMarker(m))).toEqual(m);
  });

  it('reads nothing, or a value xmsg did not write, as no marker', () => {
    for (const raw of [null, undefined, '', 'abc', 'abc|', '|123', 'ABC|123', 'abc|12x', 'abc|123|4', 'a-b|123'])
      expect(parseDeploymentMarker(raw), String(raw)).toBeUndefined();
  });

  it('is created once: replicas starting together all hold the one marker, and one of them created it', async () => {
    const k = key();
    const started = await Promise.all(Array.from({ length: 5 }, () => ensureDeploymentMarker(redis, k)));
    expect(new Set(started.map((s) => s.marker.id)).size).toBe(1);
    expect(started.filter((s) => s.created)).toHaveLength(1);
    expect(await readDeploymentMarker(redis, k)).toEqual(started[0]!.marker);
    // Later replicas join it, and it never changes.
    expect(await ensureDeploymentMarker(redis, k)).toEqual({ marker: started[0]!.marker, created: false });
    expect(await redis.ttl(k)).toBe(-1);
  });

  it('is created again once it vanished, with a new id', async () => {
    const k = key();
    const first = (await ensureDeploymentMarker(redis, k)).marker;
    await redis.del(k);
    expect(await readDeploymentMarker(redis, k)).toBeUndefined();
    const again = await ensureDeploymentMarker(redis, k);
    expect(again.created).toBe(true);
    expect(again.marker.id).not.toBe(first.id);
  });

  it('replaces a value xmsg did not write', async () => {
    const k = key();
    await redis.set(k, 'garbage');
    const r = await ensureDeploymentMarker(redis, k);
    expect(r.created).toBe(true);
    expect(await redis.get(k)).toBe(formatDeploymentMarker(r.marker));
  });
});
