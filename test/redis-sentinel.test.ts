/**
 * Redis through Sentinel: xmsg finds the master by asking the Sentinels (REDIS_URL points nowhere), and carries on
 * after the master freezes (SIGSTOP: its connections stay open and nothing is answered, as with a hung host or a
 * partition; a killed master, whose connections close, is the easy case) and Sentinel promotes the replica.
 * Private redis-servers, never the shared one.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Devnet, emitInitiating, executeMessage, mine, startDevnet } from '../src/devnet/devnet.js';
import { freePort, killOnExit } from '../src/devnet/processes.js';
import { type RunningXmsg, startXmsg, uniquePrefix, waitFor, waitForMessage } from './helpers/xmsg.js';

const A = 987;
const B = 988;
const MASTER_NAME = 'xmsgtest';

const children: ChildProcess[] = [];
let devnet: Devnet;
let xmsg: RunningXmsg | undefined;

function redisServer(args: string[]): ChildProcess {
  const child = spawn('redis-server', args, { stdio: 'ignore' });
  killOnExit(child);
  children.push(child);
  return child;
}

async function answers(port: number, command: (r: Redis) => Promise<unknown>): Promise<boolean> {
  const probe = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return Boolean(await command(probe));
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

let master: ChildProcess;
let masterPort: number;
let replicaPort: number;
let sentinelPort: number;
let dir: string;

beforeAll(async () => {
  [masterPort, replicaPort, sentinelPort] = [await freePort(), await freePort(), await freePort()];
  // The replica writes the master's snapshot to its directory on sync: a temporary one, never the work tree.
  dir = mkdtempSync(join(tmpdir(), 'xmsg-sentinel-'));
  const common = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction', '--dir', dir];
  master = redisServer(['--port', String(masterPort), ...common, '--dbfilename', 'master.rdb']);
  redisServer(['--port', String(replicaPort), ...common, '--dbfilename', 'replica.rdb', '--replicaof', '127.0.0.1', String(masterPort)]);
  const conf = join(dir, 'sentinel.conf');
  writeFileSync(
    conf,
    [
      `port ${sentinelPort}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${masterPort} 1`,
      `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
      `sentinel failover-timeout ${MASTER_NAME} 5000`,
    ].join('\n'),
  );
  redisServer([conf, '--sentinel']);
  await waitFor('the replica in sync', () =>
    answers(replicaPort, async (r) => (await r.info('replication')).includes('master_link_status:up')),
  );
  await waitFor('the sentinel watching the replica', () =>
    answers(sentinelPort, async (r) => ((await r.call('SENTINEL', 'REPLICAS', MASTER_NAME)) as unknown[]).length === 1),
  );
  devnet = await startDevnet({ chainIds: [A, B] });
  for (const c of devnet.chains) await mine(c);
});

afterAll(async () => {
  await xmsg?.stop();
  await devnet?.stop();
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function validMessage(): Promise<void> {
  const init = await emitInitiating(devnet.chain(A));
  await executeMessage(devnet.chain(B), init.identifier, init.msgHash);
  await waitForMessage(xmsg!.baseUrl, init.msgHash, { status: 'valid' }, 45_000);
}

describe('Redis Sentinel', () => {
  it('finds the master through Sentinel and carries on after the master freezes and the replica is promoted', async () => {
    xmsg = await startXmsg(devnet, uniquePrefix('sentinel'), {
      // Nothing listens there: with Sentinels, the URL only gives credentials and the database.
      REDIS_URL: 'redis://127.0.0.1:1/0',
      REDIS_SENTINELS: `127.0.0.1:${sentinelPort}`,
      REDIS_SENTINEL_NAME: MASTER_NAME,
      XMSG_REDIS_SOCKET_TIMEOUT_S: '15',
    });
    await validMessage();

    master.kill('SIGSTOP');
    await waitFor(
      'Sentinel to promote the replica',
      () =>
        answers(
          sentinelPort,
          async (r) => ((await r.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME)) as string[])[1] === String(replicaPort),
        ),
      30_000,
    );
    await validMessage();
    expect(await answers(replicaPort, async (r) => (await r.info('replication')).includes('role:master'))).toBe(true);
  }, 120_000);
});
