/**
 * Graceful shutdown, as `docker stop` or Kubernetes does it: SIGTERM in the middle of a stream of messages. The
 * replica stops by itself (exit 0, well inside the grace period), and the next replica carries on: every message
 * checked exactly once, no job left failed or active.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { type RedisServer, startRedisServer } from '../src/devnet/redis-server.js';
import { type SentMessage, sendBatch } from './chaos/lib.js';
import { useWorld } from './helpers/world.js';
import { messagesFor, metricValue, scrape, waitFor } from './helpers/xmsg.js';

const A = 985;
const B = 986;
const BATCHES = 6;
const BATCH = 20;

const world = useWorld({ name: 'shutdown', chainIds: [A, B], mineOnStart: true });
let ownRedis: RedisServer | undefined;

afterAll(async () => {
  await ownRedis?.stop();
});

describe('graceful shutdown', () => {
  it('stops on SIGTERM mid-stream with exit 0, and the next replica checks every message exactly once', async () => {
    const first = world.replica('first');
    await first.start();

    const sent: SentMessage[] = [];
    let stopMs = 0;
    for (let b = 0; b < BATCHES; b++) {
      const [from, to] = b % 2 === 0 ? [world.devnet.chain(A), world.devnet.chain(B)] : [world.devnet.chain(B), world.devnet.chain(A)];
      sent.push(...(await sendBatch(from, to, BATCH)));
      if (b === 1) {
        const started = Date.now();
        await first.stop();
        stopMs = Date.now() - started;
      }
    }
    expect(await first.exitStatus()).toEqual({ code: 0, signal: null });
    expect(stopMs).toBeLessThan(10_000);
    const log = await readFile(first.logPath!, 'utf8');
    expect(log).toContain('"shutting down"');
    expect(log).toContain('"xmsg stopped"');

    const second = world.replica('second');
    await second.start();
    await waitFor(
      `all ${sent.length} messages checked`,
      async () => {
        for (const m of sent) {
          const found = await messagesFor(second.baseUrl, m.msgHash);
          if (!found?.some((x) => x.status === 'valid')) return false;
        }
        return true;
      },
      60_000,
    );
    for (const m of sent) expect((await messagesFor(second.baseUrl, m.msgHash))!.map((x) => x.status)).toEqual(['valid']);
    const metrics = await scrape(second.baseUrl);
    expect(metricValue(metrics, 'xmsg_queue_jobs{queue="check",state="failed"}')).toBe(0);
    await second.stop();
    expect(await second.exitStatus()).toEqual({ code: 0, signal: null });
  }, 120_000);

  it('exits 1 once XMSG_SHUTDOWN_GRACE_S is over when its Redis stops answering, and says what it was waiting on', async () => {
    ownRedis = await startRedisServer();
    const replica = world.replica('frozen-redis', { REDIS_URL: ownRedis.url, XMSG_SHUTDOWN_GRACE_S: '2' });
    await replica.start();

    ownRedis.freeze();
    const started = Date.now();
    await replica.stop();
    const stopMs = Date.now() - started;
    ownRedis.thaw();

    // Code 1 and not SIGKILL: the replica cut its connections itself; the helper's SIGKILL comes only after 10 s.
    expect(await replica.exitStatus()).toEqual({ code: 1, signal: null });
    expect(stopMs).toBeGreaterThanOrEqual(2_000);
    const log = await readFile(replica.logPath!, 'utf8');
    const warning = log.split('\n').find((line) => line.includes('shutdown still waiting after the grace period'));
    expect(warning, log).toBeDefined();
    expect(JSON.parse(warning!)).toMatchObject({ level: 40, graceS: 2, step: expect.any(String) });
  }, 60_000);
});
