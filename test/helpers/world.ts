/**
 * The set-up the end-to-end tests share, as one call at the top of a test file:
 *
 *   const world = useWorld({ name: 'slack', chainIds: [A, B], slack: { token }, scope: 'test', holdLabels: 'each' });
 *   it('...', async () => { const x = await world.startXmsg({ SLACK_API_URL: world.slack.apiUrl }); ... });
 *
 * It registers its own vitest hooks. Before the file's tests: the anvil devnet, the loopback Slack and Discord if
 * asked for, a private Redis if asked for. A Redis key prefix for the file, or a fresh one for each test. After
 * each test (scope `test`) or after the file: every xmsg it started stopped, every replica process killed, then the
 * fakes and the chains stopped, and last every key of its prefixes deleted. Hooks a file registers after useWorld
 * run inside these (vitest runs after-hooks in reverse): its beforeAll finds the chains running, its afterAll runs
 * while they still are.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { type Devnet, holdLabelsAtGenesis, mine, startDevnet } from '../../src/devnet/devnet.js';
import { type RedisServer, startRedisServer } from '../../src/devnet/redis-server.js';
import { type FakeDiscord, type FakeDiscordOptions, startFakeDiscord } from '../fakes/discord/index.js';
import { type FakeSlack, type FakeSlackOptions, startFakeSlack } from '../fakes/slack.js';
import { Replica } from './replica.js';
import { cleanRedis, REDIS_URL, type RunningXmsg, startXmsg, testEnv, uniquePrefix } from './xmsg.js';

export interface WorldOptions {
  /** Names the Redis prefixes (`xmsgtest-<name>-…`) and the replica log folder. */
  name: string;
  chainIds: number[];
  /** Starts the loopback Slack with these options; reset before each test in scope `test`. */
  slack?: FakeSlackOptions;
  /** Starts the loopback Discord with these options; reset before each test in scope `test`. */
  discord?: FakeDiscordOptions;
  /**
   * `file` (default): one prefix for the whole file; what the tests started is stopped after the last one.
   * `test`: a fresh prefix for each test; what it started is stopped, and its keys deleted, right after it.
   */
  scope?: 'file' | 'test';
  /**
   * Holds `safe` and `finalized` at 0 on every chain, so that nothing becomes cross-safe or final unless a test
   * says so: `once` after the start, or `each` before every test (a test may have moved them).
   */
  holdLabels?: 'once' | 'each';
  /** Mines a block on every chain after the start, so the chains have a head of their own above genesis. */
  mineOnStart?: boolean;
  /**
   * startXmsg mines an empty block on every chain first: a fresh xmsg starts at the head block, and an empty one
   * keeps earlier tests' messages out of this test's counts.
   */
  mineBeforeXmsg?: boolean;
  /**
   * A redis-server of the file's own (append-only, fsynced before every reply) instead of the shared Redis, for tests
   * that kill, freeze or restart it; xmsg's environment points at it. Stopping it deletes everything in it.
   */
  ownRedis?: boolean;
}

export interface World {
  readonly devnet: Devnet;
  /** The loopback Slack (only with the `slack` option). */
  readonly slack: FakeSlack;
  /** The loopback Discord (only with the `discord` option). */
  readonly discord: FakeDiscord;
  /** The Redis key prefix of the file, or of the current test in scope `test`. */
  readonly prefix: string;
  /** The Redis xmsg uses: the private one with `ownRedis`, else the shared one. */
  readonly redisUrl: string;
  /** The private Redis (only with `ownRedis`). */
  readonly ownRedis: RedisServer;
  /** Where replica processes write their logs; kept (and named on the console) when a test of the file failed. */
  readonly logDir: string;
  /** One more prefix of the current scope (a test that needs several), cleaned with the others. */
  newPrefix(name: string): string;
  /** One xmsg replica in this process, under the world's prefix (or `prefix`); stopped at the end of the scope. */
  startXmsg(overrides?: Record<string, string>, prefix?: string): Promise<RunningXmsg>;
  /** Stops one started by startXmsg before the end of the scope (a restart, a replica going away). */
  stopXmsg(x: RunningXmsg): Promise<void>;
  /** Stops every one started by startXmsg and not stopped yet. */
  stopAllXmsg(): Promise<void>;
  /** The replicas started by startXmsg and not stopped yet, in start order. */
  readonly running: readonly RunningXmsg[];
  /** A replica as an OS process (not started), info-level logs in logDir; killed after the file's tests. */
  replica(name: string, overrides?: Record<string, string>): Replica;
  /** `count` replica processes with one environment, started in parallel. */
  startReplicas(count: number, name: string, overrides?: Record<string, string>): Promise<Replica[]>;
}

export function useWorld(options: WorldOptions): World {
  const perTest = options.scope === 'test';
  let devnet: Devnet | undefined;
  let slack: FakeSlack | undefined;
  let discord: FakeDiscord | undefined;
  let ownRedis: RedisServer | undefined;
  let prefix = perTest ? '' : uniquePrefix(options.name);
  // Prefixes to delete at the end of the scope (the file's stay until afterAll).
  const filePrefixes = perTest ? [] : [prefix];
  let testPrefixes: string[] = [];
  const running: RunningXmsg[] = [];
  const replicas: Replica[] = [];
  const logs = replicaLogs(options.name);

  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`useWorld(${options.name}): no ${what} (not asked for, or not started yet)`);
    return value;
  };
  const redisUrl = () => ownRedis?.url ?? REDIS_URL;
  // xmsg's settings on top of the test settings: the private Redis if there is one, then the test's own.
  const settings = (overrides: Record<string, string>) => ({ ...(ownRedis ? { REDIS_URL: ownRedis.url } : {}), ...overrides });
  const replica = (name: string, overrides: Record<string, string> = {}): Replica => {
    const env = testEnv(need(devnet, 'devnet'), prefix, settings({ XMSG_LOG_LEVEL: 'info', ...overrides }));
    const r = new Replica({ name, env, logDir: logs.dir() });
    replicas.push(r);
    return r;
  };
  const stopRunning = async () => {
    await Promise.all(running.splice(0).map((x) => x.stop()));
  };
  // Keys on the private Redis go with it.
  const clean = (prefixes: string[]) => (ownRedis ? Promise.resolve() : Promise.all(prefixes.map(cleanRedis)).then(() => undefined));

  beforeAll(async () => {
    [devnet, slack, discord, ownRedis] = await Promise.all([
      startDevnet({ chainIds: options.chainIds }),
      options.slack && startFakeSlack(options.slack),
      options.discord && startFakeDiscord(options.discord),
      options.ownRedis ? startRedisServer({ persistence: 'always' }) : undefined,
    ]);
    if (options.holdLabels === 'once') await holdLabelsAtGenesis(devnet);
    if (options.mineOnStart) for (const c of devnet.chains) await mine(c);
  });

  afterAll(async () => {
    await stopRunning();
    await Promise.all(replicas.splice(0).map((r) => r.kill()));
    await slack?.stop();
    await discord?.stop();
    await devnet?.stop();
    await clean(filePrefixes);
    await ownRedis?.stop();
  });

  if (perTest) {
    beforeEach(async () => {
      prefix = uniquePrefix(options.name);
      testPrefixes = [prefix];
      slack?.reset();
      discord?.reset();
      if (options.holdLabels === 'each') await holdLabelsAtGenesis(need(devnet, 'devnet'));
    });
    afterEach(async () => {
      await stopRunning();
      await clean(testPrefixes.splice(0));
    });
  } else if (options.holdLabels === 'each') {
    beforeEach(() => holdLabelsAtGenesis(need(devnet, 'devnet')));
  }

  return {
    get devnet() {
      return need(devnet, 'devnet');
    },
    get slack() {
      return need(slack, 'loopback Slack');
    },
    get discord() {
      return need(discord, 'loopback Discord');
    },
    get prefix() {
      return need(prefix || undefined, 'prefix');
    },
    get redisUrl() {
      return redisUrl();
    },
    get ownRedis() {
      return need(ownRedis, 'own Redis');
    },
    get logDir() {
      return logs.dir();
    },
    get running() {
      return running;
    },
    newPrefix(name) {
      const p = uniquePrefix(name);
      (perTest ? testPrefixes : filePrefixes).push(p);
      return p;
    },
    async startXmsg(overrides = {}, p = prefix) {
      const chains = need(devnet, 'devnet');
      if (options.mineBeforeXmsg) for (const c of chains.chains) await mine(c);
      const x = await startXmsg(chains, p, settings(overrides));
      running.push(x);
      return x;
    },
    async stopXmsg(x) {
      const i = running.indexOf(x);
      if (i >= 0) running.splice(i, 1);
      await x.stop();
    },
    stopAllXmsg: stopRunning,
    replica,
    async startReplicas(count, name, overrides = {}) {
      const started = Array.from({ length: count }, (_, i) => replica(`${name}-${i}`, overrides));
      await Promise.all(started.map((r) => r.start()));
      return started;
    },
  };
}

/**
 * A folder for the file's replica logs, made when the first replica starts; removed after the file's tests if they
 * all passed, kept (and named on the console) otherwise.
 */
function replicaLogs(name: string): { dir(): string } {
  const dir = join(tmpdir(), `xmsg-${name}-${Date.now().toString(36)}-${process.pid}`);
  let made = false;
  let failed = false;
  afterEach(({ task }) => {
    if (task.result?.state === 'fail' || task.result?.errors?.length) failed = true;
  });
  afterAll(() => {
    if (!made) return;
    if (failed) console.info(`replica logs kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  });
  return {
    dir() {
      if (!made) mkdirSync(dir, { recursive: true });
      made = true;
      return dir;
    },
  };
}
