/**
 * A private redis-server on a free loopback port, for the demo and the tests when no Redis answers, and for the
 * chaos tests that kill, freeze and restart their Redis (never a shared one).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, killOnExit } from './processes.js';

const READY_TIMEOUT_MS = 15_000;

export interface RedisServerOptions {
  /**
   * `none` (default): nothing on disk, as a throwaway server wants (`--save "" --appendonly no`).
   * `always`: append-only file fsynced before every reply, so a kill -9 loses nothing a client was told had happened.
   */
  persistence?: 'none' | 'always';
}

export interface RedisServer {
  url: string;
  port: number;
  /** Its working directory (the append-only file), removed by stop(). */
  dir: string;
  /** `kill -9`. */
  kill(): Promise<void>;
  /** Starts it again on the same port and directory; resolves when it answers PING with its data loaded. */
  start(): Promise<void>;
  /** SIGSTOP: connections stay open and nothing is answered, as with a hung host or a silent network partition. */
  freeze(): void;
  /** SIGCONT after freeze(). */
  thaw(): void;
  /** Kills it and removes its directory. */
  stop(): Promise<void>;
}

/** True when `redis-server` is on the PATH. */
export function redisServerInstalled(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** True when something at `url` answers PING within `timeoutMs`; never retries, never logs. */
export async function redisAnswers(url: string, timeoutMs = 2_000): Promise<boolean> {
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: timeoutMs });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG'; // a server loading its data answers LOADING instead
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'xmsg-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  const persistence = options.persistence === 'always' ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  // noeviction: BullMQ's requirement, as in production.
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    ...persistence,
    '--dir',
    dir,
    '--maxmemory-policy',
    'noeviction',
  ];
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const start = async (): Promise<void> => {
    // Its own process group: a terminal's Ctrl-C reaches only its parent, which stops it last, after its own clean-up.
    const c = spawn('redis-server', args, { stdio: 'ignore', detached: true });
    child = c;
    killOnExit(c);
    let spawnError: Error | undefined;
    c.once('error', (err) => (spawnError = err));
    // A process that could not be spawned emits 'error' and maybe no 'exit'.
    exited = new Promise((r) => {
      c.once('exit', () => r());
      c.once('error', () => r());
    });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (spawnError) throw new Error(`could not start redis-server: ${spawnError.message}`);
      if (c.exitCode !== null) throw new Error(`redis-server on port ${port} exited with ${c.exitCode}`);
      if (await redisAnswers(url)) return;
      if (Date.now() > deadline) throw new Error(`redis-server on port ${port} not ready after ${READY_TIMEOUT_MS} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const kill = async (): Promise<void> => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };

  try {
    await start();
  } catch (err) {
    await kill();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url,
    port,
    dir,
    kill,
    start,
    freeze: () => child?.kill('SIGSTOP'),
    thaw: () => child?.kill('SIGCONT'),
    async stop() {
      child?.kill('SIGCONT');
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
