/**
 * Redis Cluster (REDIS_CLUSTER_NODES): a replica process against a private 3-master Cluster on loopback, through a
 * stream of messages with one invalid one, a kill -9 and a restart in the middle. Every message must be checked once
 * and the alert posted once. In Cluster mode the whole prefix is one hash tag (src/config.ts, clusterPrefix), so every
 * key, BullMQ's included, lives on the master that owns its slot.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterPrefix } from '../src/config.js';
import { freePort, killOnExit } from '../src/devnet/processes.js';
import { rootsByAlert, SLACK, slackEnv, stream, useChaosWorld, waitForCoverage } from './chaos/lib.js';
import type { Replica } from './helpers/replica.js';
import { waitFor } from './helpers/xmsg.js';

const A = 961;
const B = 962;

const world = useChaosWorld('cluster', [A, B]);
const servers: ChildProcess[] = [];
let ports: number[] = [];
let dir: string;
let replica: Replica | undefined;

async function pingable(port: number): Promise<boolean> {
  const probe = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

async function onNode<T>(port: number, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1 });
  try {
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

beforeAll(async () => {
  ports = [await freePort(), await freePort(), await freePort()];
  // Each node writes its cluster config file there: a temporary directory, never the work tree.
  dir = mkdtempSync(join(tmpdir(), 'xmsg-cluster-'));
  for (const port of ports) {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--cluster-enabled', 'yes'];
    args.push('--cluster-config-file', `nodes-${port}.conf`, '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction');
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    killOnExit(child);
    servers.push(child);
  }
  for (const port of ports) await waitFor(`redis-server on ${port}`, () => pingable(port));
  await promisify(execFile)('redis-cli', [
    '--cluster',
    'create',
    ...ports.map((p) => `127.0.0.1:${p}`),
    '--cluster-replicas',
    '0',
    '--cluster-yes',
  ]);
  await waitFor('the cluster to be ok', async () =>
    (await Promise.all(ports.map((p) => onNode(p, (r) => r.cluster('INFO'))))).every((info) => String(info).includes('cluster_state:ok')),
  );
}, 60_000);

afterAll(async () => {
  await replica?.kill();
  for (const s of servers) s.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('Redis Cluster', () => {
  it('checks every message once and posts the alert once through a kill -9 and a restart', async () => {
    replica = world.replica('cluster', {
      ...slackEnv(world.slack),
      // Nothing listens there: in Cluster mode the URL only gives the password and TLS.
      REDIS_URL: 'redis://127.0.0.1:1',
      REDIS_CLUSTER_NODES: ports.map((p) => `127.0.0.1:${p}`).join(','),
      // The console subscribes to a pub/sub channel: on a Cluster too.
      XMSG_CONSOLE: '1',
    });
    await replica.start();
    const prefix = clusterPrefix(world.prefix);
    const cursorsOn = async (port: number) =>
      onNode(port, async (r) => (await r.dbsize()) > 0 && (await r.exists(`${prefix}:cursor:${A}`, `${prefix}:cursor:${B}`)) === 2);
    const home = await waitFor('both chains followed, on the master of the prefix slot', async () => {
      for (const p of ports) if (await cursorsOn(p)) return p;
      return undefined;
    });

    let batches = 0;
    const sent = await stream([world.devnet.chain(A), world.devnet.chain(B)], {
      total: 30,
      batchSize: 5,
      invalid: new Set([12]),
      durationMs: 6_000,
      onBatch: async () => {
        if (++batches !== 3) return;
        await replica!.kill();
        await replica!.start();
      },
    });

    const cover = await waitForCoverage(() => replica!.baseUrl, `redis://127.0.0.1:${home}`, prefix, sent, 90_000);
    expect(cover.wrong, `logs in ${world.logDir}`).toEqual([]);
    expect(cover.unalerted).toEqual([]);
    expect(cover.doubled).toEqual([]);
    const roots = await waitFor('the alert posted', () => rootsByAlert(world.slack, SLACK.channel).get('XM-1'), 30_000);
    expect([...rootsByAlert(world.slack, SLACK.channel).keys()]).toEqual(['XM-1']);
    expect(roots).toHaveLength(1);
    // No command was refused for spanning slots or nodes (BullMQ's workers only log those, and retry).
    const logs = readdirSync(world.logDir).map((f) => readFileSync(join(world.logDir, f), 'utf8'));
    expect(logs.join('\n')).not.toMatch(/CROSSSLOT|MOVED|CLUSTERDOWN/);
    // One slot: the other masters hold nothing of this deployment.
    for (const p of ports.filter((p) => p !== home)) expect(await onNode(p, (r) => r.dbsize())).toBe(0);
  }, 180_000);
});
