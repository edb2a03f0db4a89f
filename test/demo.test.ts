import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { demoLogger } from '../scripts/demo/log-sink.js';
import { Printer } from '../scripts/demo/print.js';
import type { Config } from '../src/config.js';
import { freePort } from '../src/devnet/processes.js';
import { keysUnder } from '../src/devnet/redis-keys.js';
import { redisAnswers, redisServerInstalled } from '../src/devnet/redis-server.js';
import { REDIS_URL, waitFor } from './helpers/xmsg.js';

const DEMO_SECONDS = 55;

interface DemoRun {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

/** `npm run demo` without npm (whose own exit code after Ctrl-C is a signal's), in a process group of its own as in a terminal. */
function startDemo(env: NodeJS.ProcessEnv = {}): DemoRun {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts'], {
    env: { ...process.env, XMSG_HTTP_PORT: '0', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => resolve(code));
  });
  return { child, output: () => output, exited };
}

/** The demo for a bounded time; its exit code is its own verdict. */
async function runDemo(): Promise<{ code: number | null; output: string }> {
  const run = startDemo({ XMSG_DEMO_SECONDS: String(DEMO_SECONDS) });
  const code = await run.exited;
  return { code, output: run.output() };
}

/** The run's Redis key prefix, from the demo's banner. */
const prefixOf = (output: string) => /keys (xmsg-demo-[0-9a-f]+):\*/.exec(output)?.[1];

async function keysLeft(url: string, prefix: string): Promise<string[]> {
  const redis = new Redis(url);
  try {
    return await keysUnder(redis, prefix);
  } finally {
    redis.disconnect();
  }
}

/** Every process below `pid` (its anvil chains and private Redis sit in process groups of their own). */
function descendants(pid: number): number[] {
  if (!existsSync('/proc')) return [];
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const found: number[] = [];
  const walk = (parent: number) => {
    for (const [child, ppid] of parentOf) {
      if (ppid !== parent) continue;
      found.push(child);
      walk(child);
    }
  };
  walk(pid);
  return found;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Starts the demo, waits until it is running (sending traffic, so it has Redis keys), then Ctrl-C as a terminal sends it. */
async function interruptWhenRunning(env: NodeJS.ProcessEnv = {}) {
  const run = startDemo(env);
  try {
    await waitFor('the demo running', () => /→ sent {2}#2 /.test(run.output()), 60_000);
  } catch (err) {
    process.kill(-run.child.pid!, 'SIGKILL');
    throw new Error(`${String(err)}\n${run.output()}`);
  }
  const processes = descendants(run.child.pid!);
  // A terminal's Ctrl-C: SIGINT to every process of the foreground group; npm and tsx pass it on once more.
  process.kill(-run.child.pid!, 'SIGINT');
  setTimeout(() => run.child.kill('SIGINT'), 20);
  const code = await run.exited;
  await waitFor('every process of the demo gone', () => processes.every((pid) => !alive(pid)), 10_000).catch(() => undefined);
  return { code, output: run.output(), processes };
}

describe('npm run demo', () => {
  it("prints xmsg's log lines with xmsg's redaction: no API key, password or token of a URL", () => {
    const lines: string[] = [];
    const printer = new (class extends Printer {
      override line(text: string) {
        lines.push(text);
      }
    })();
    const { logger } = demoLogger({ logLevel: 'info' } as Config, printer);
    logger.warn({ url: 'https://mainnet.example/v3/SECRETKEY', token: 'xoxb-SECRET' }, 'RPC at redis://:SECRETPASS@db:6379 failed');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('https://mainnet.example');
    expect(lines[0]).toContain('redis://db:6379');
    expect(lines[0]).not.toMatch(/SECRET/);
  });

  it(
    'shows every kind of trouble on a 3-chain devnet, each reported and each alert opened or closed',
    async () => {
      const { code, output } = await runDemo();
      expect(output, output).toContain('result: OK');
      expect(code).toBe(0);
      for (const scenario of [
        'invalid → replaced',
        'invalid → cross-safety violation',
        'expired → replaced',
        'undeclared → replaced',
        'unpromoted → promoted',
        'node down → back',
      ]) {
        expect(output, output).toMatch(new RegExp(`✓ ${scenario} \\(#\\d+\\)`));
      }
      expect(output).toMatch(/▲ alert opened +XM-\d+ critical cross_safety_violation on chain 90\d/);
      expect(output).toMatch(/▼ alert closed +XM-\d+ by xmsg/);
      expect(output).not.toContain('not provoked by the demo');
      expect(await keysLeft(REDIS_URL, prefixOf(output)!)).toEqual([]);
    },
    (DEMO_SECONDS + 40) * 1000,
  );

  it('leaves no Redis key and no process behind after Ctrl-C', async () => {
    const { code, output, processes } = await interruptWhenRunning();
    expect(code, output).toBe(0);
    expect(output).toMatch(/stopping \(SIGINT\)/);
    expect(output).toMatch(/devnet stopped; stand-ins stopped; deleted \d+ Redis keys under xmsg-demo-/);
    expect(await keysLeft(REDIS_URL, prefixOf(output)!)).toEqual([]);
    expect(processes.filter(alive), output).toEqual([]);
    expect(output).not.toContain('ioredis');
  }, 90_000);

  it.runIf(redisServerInstalled())(
    'starts a private redis-server when nothing answers at REDIS_URL, and stops it on the way out',
    async () => {
      const deadUrl = `redis://127.0.0.1:${await freePort()}`;
      const { code, output, processes } = await interruptWhenRunning({ REDIS_URL: deadUrl });
      expect(code, output).toBe(0);
      const privateUrl = new RegExp(`no Redis answers at ${deadUrl}: started a private redis-server at (redis://\\S+) `).exec(output)?.[1];
      expect(privateUrl, output).toBeDefined();
      expect(output).toContain('private redis-server stopped');
      expect(await redisAnswers(privateUrl!)).toBe(false);
      expect(processes.filter(alive), output).toEqual([]);
      expect(output).not.toContain('ioredis');
    },
    90_000,
  );

  it('says in one line how to get a Redis when none answers and none is installed, and exits 1', async () => {
    // Without PATH nothing named redis-server can be found; node and anvil are started by their full paths.
    const run = startDemo({ PATH: '/nonexistent', REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
    expect(await run.exited).toBe(1);
    const lines = run.output().trim().split('\n');
    expect(lines, run.output()).toEqual([expect.stringMatching(/^demo: no Redis answers at .* redis-server is not installed: /)]);
    for (const way of ['sudo apt install redis-server', 'brew install redis', 'docker run -p 6379:6379 redis:7'])
      expect(lines[0]).toContain(way);
  }, 30_000);
});
