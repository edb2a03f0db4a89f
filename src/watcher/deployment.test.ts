import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { StateLostEvent } from '../events/types.js';
import { EventOutbox } from '../jobs/events-outbox.js';
import { formatDeploymentMarker, readDeploymentMarker } from '../store/deployment.js';
import { DeploymentWatch } from './deployment.js';

// Replicas' deployment watches on one Redis and one real events queue (BullMQ), noticing a loss at once.

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const redis = new Redis(url);
const connection = new Redis(url, { maxRetriesPerRequest: null });
const prefix = `xmsgtest-deployment-watch-${randomUUID().slice(0, 8)}`;
const outbox = new EventOutbox(connection, prefix);
const log = pino({ level: 'silent' });
const key = `${prefix}:deployment`;

afterAll(async () => {
  await outbox.close();
  for await (const found of redis.scanStream({ match: `${prefix}:*`, count: 1000 })) if (found.length) await redis.del(...found);
  await Promise.all([redis.quit(), connection.quit()]);
});

const replicas = (n: number, onLoss?: () => Promise<void>) =>
  Array.from({ length: n }, () => new DeploymentWatch({ redis, key, outbox, log, onLoss }));
const stateLostJobs = async () => (await outbox.queue.getJobs(['waiting'])).filter((j) => j.name === 'state_lost');

describe('deployment watch', () => {
  it('raises one state_lost event when the marker vanishes under replicas that notice it at once', async () => {
    const losses: number[] = [];
    const watches = replicas(3, async () => {
      losses.push(1);
    });
    const started = await Promise.all(watches.map((w) => w.start()));
    expect(new Set(started.map((m) => m.id)).size).toBe(1);
    const before = started[0]!;

    await redis.del(key);
    // Each replica's followers notice on their next poll, several of them at once.
    await Promise.all(watches.flatMap((w) => [w.observe(undefined), w.observe(undefined)]));

    const now = await readDeploymentMarker(redis, key);
    expect(now?.id).not.toBe(before.id);
    for (const w of watches) {
      expect(w.current).toEqual(now);
      expect(w.afterLoss).toBe(true);
    }
    const jobs = await stateLostJobs();
    expect(jobs.map((j) => j.id)).toEqual([`state_lost-${now!.id}`]);
    const event = jobs[0]!.data as StateLostEvent;
    expect(event.lost).toEqual(before);
    expect(event.deployment).toEqual(now);
    // Each replica re-applied what Redis lost of its settings, once.
    expect(losses).toHaveLength(3);

    // The marker now held: nothing more happens, poll after poll.
    await Promise.all(watches.map((w) => w.observe(now)));
    expect(await stateLostJobs()).toHaveLength(1);
    // A read from just before the marker was re-created changes nothing either.
    await watches[0]!.observe(undefined);
    expect(await stateLostJobs()).toHaveLength(1);
  });

  it('also reports a marker replaced by a replica that started afresh on the emptied Redis, under its id', async () => {
    const [watch] = replicas(1);
    const held = await watch!.start();
    const fresh = { id: 'c0ffee000001', createdAt: Date.now() };
    await redis.set(key, formatDeploymentMarker(fresh));
    await watch!.observe(await readDeploymentMarker(redis, key));
    expect(watch!.current).toEqual(fresh);
    expect(watch!.afterLoss).toBe(true);
    const job = await outbox.queue.getJob(`state_lost-${fresh.id}`);
    expect((job!.data as StateLostEvent).lost).toEqual(held);
  });

  it('joins the marker at start without reporting anything', async () => {
    const [first, later] = replicas(2);
    await redis.del(key);
    const waiting = (await stateLostJobs()).length;
    const marker = await first!.start();
    expect(await later!.start()).toEqual(marker);
    expect(later!.afterLoss).toBe(false);
    expect(await stateLostJobs()).toHaveLength(waiting);
  });
});
