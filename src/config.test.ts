import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ChainIdProbe, ConfigError, ENV_VARIABLES, loadConfig, parseEnv } from './config.js';

// Parsing and checking the environment needs no node: chain ids come from a probe answering for each URL.
// test/config.test.ts asks real nodes (chain ids, an RPC that does not answer, `npm start` stopping).
const RPC_A = 'http://node-a:8545';
const RPC_B = 'http://node-b:8545';
/** Another URL of node A (its proxy, say). */
const RPC_A_AGAIN = 'http://proxy-a:8545';
const CHAIN_OF: Record<string, number> = { [RPC_A]: 941, [RPC_B]: 942, [RPC_A_AGAIN]: 941 };
const probe: ChainIdProbe = async (url) => {
  const id = CHAIN_OF[url];
  if (id === undefined) throw new Error(`fetch failed\n${url}`);
  return id;
};
const RPCS = `${RPC_A},${RPC_B}`;

function problemsOf(f: () => unknown): string[] {
  try {
    f();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}
async function loadProblems(env: NodeJS.ProcessEnv): Promise<string[]> {
  try {
    await loadConfig(env, probe);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xmsg-config-unit-'));
});
async function dependencySetFile(content: unknown): Promise<string> {
  const path = join(dir, `dependency-set-${Math.random().toString(36).slice(2)}.json`);
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

describe('parseEnv', () => {
  it('gives every setting its documented default', () => {
    const e = parseEnv({ XMSG_L2_RPCS: RPC_A });
    expect(e).toMatchObject({
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_SENTINELS: [],
      REDIS_CLUSTER_NODES: [],
      XMSG_REDIS_SOCKET_TIMEOUT_S: 30,
      XMSG_REDIS_PREFIX: 'xmsg',
      XMSG_L2_RPCS: [{ url: RPC_A }],
      XMSG_STARTUP_RPC_WAIT_S: 30,
      XMSG_INBOX_ADDRESS: '0x4200000000000000000000000000000000000022',
      XMSG_POLL_INTERVAL_MS: 1000,
      XMSG_START_BLOCKS_BACK: 100,
      XMSG_MAX_BLOCK_RANGE: 1000,
      XMSG_HEAD_STALL_S: 300,
      XMSG_RPC_RETRIES: 3,
      XMSG_HTTP_PORT: 3000,
      XMSG_LOG_LEVEL: 'info',
      XMSG_CONSOLE: false,
      SLACK_ADMIN_USER_IDS: [],
      SLACK_API_URL: 'https://slack.com/api/',
      DISCORD_ADMIN_ROLE_IDS: [],
      DISCORD_API_URL: 'https://discord.com/api',
    });
  });

  it('reads an empty or blank variable (`FOO=` in a .env file) as not set', () => {
    const e = parseEnv({ XMSG_L2_RPCS: RPC_A, XMSG_HEAD_STALL_S: '', SLACK_BOT_TOKEN: '', REDIS_URL: '  ' });
    expect(e.XMSG_HEAD_STALL_S).toBe(300);
    expect(e.SLACK_BOT_TOKEN).toBeUndefined();
    expect(e.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(problemsOf(() => parseEnv({ XMSG_L2_RPCS: ' ' }))).toEqual([expect.stringMatching(/^XMSG_L2_RPCS: is required/)]);
  });

  it('reads comma-separated lists, ignoring blanks around and between entries', () => {
    const e = parseEnv({ XMSG_L2_RPCS: ` ${RPC_A} , ${RPC_B} ,`, SLACK_ADMIN_USER_IDS: 'U1, U2,,', DISCORD_ADMIN_ROLE_IDS: '42' });
    expect(e.XMSG_L2_RPCS.map((r) => r.url)).toEqual([RPC_A, RPC_B]);
    expect(e.SLACK_ADMIN_USER_IDS).toEqual(['U1', 'U2']);
    expect(e.DISCORD_ADMIN_ROLE_IDS).toEqual(['42']);
    expect(problemsOf(() => parseEnv({ XMSG_L2_RPCS: ',' }))).toEqual(['XMSG_L2_RPCS: needs at least one RPC URL']);
  });

  it('turns the console on with 1 or true only', () => {
    for (const [value, on] of [
      ['1', true],
      ['true', true],
      ['0', false],
      ['false', false],
    ] as const) {
      expect(parseEnv({ XMSG_L2_RPCS: RPC_A, XMSG_CONSOLE: value }).XMSG_CONSOLE).toBe(on);
    }
    expect(problemsOf(() => parseEnv({ XMSG_L2_RPCS: RPC_A, XMSG_CONSOLE: 'yes' }))).toEqual(['XMSG_CONSOLE: must be 1 (on) or 0 (off)']);
  });

  it('binds to 0.0.0.0 by default, takes tokens of 16 characters or more, and says what is wrong with others', () => {
    const e = parseEnv({ XMSG_L2_RPCS: RPC_A, XMSG_CONSOLE_TOKEN: ' 0123456789abcdef ', XMSG_HTTP_HOST: '127.0.0.1' });
    expect([e.XMSG_HTTP_HOST, e.XMSG_CONSOLE_TOKEN, e.XMSG_API_TOKEN]).toEqual(['127.0.0.1', '0123456789abcdef', undefined]);
    expect(parseEnv({ XMSG_L2_RPCS: RPC_A }).XMSG_HTTP_HOST).toBe('0.0.0.0');
    expect(
      problemsOf(() =>
        parseEnv({ XMSG_L2_RPCS: RPC_A, XMSG_CONSOLE_TOKEN: 'short', XMSG_API_TOKEN: 'with a space in it', XMSG_HTTP_HOST: 'example.com' }),
      ),
    ).toEqual([
      'XMSG_HTTP_HOST: must be an IP address to bind to (0.0.0.0, 127.0.0.1, ::) or localhost',
      'XMSG_API_TOKEN: must not contain spaces',
      'XMSG_CONSOLE_TOKEN: must be at least 16 characters (e.g. openssl rand -hex 24)',
    ]);
  });

  it('checksums the inbox address', () => {
    expect(parseEnv({ XMSG_L2_RPCS: RPC_A, XMSG_INBOX_ADDRESS: '0xabcdef0000000000000000000000000000000022' }).XMSG_INBOX_ADDRESS).toBe(
      '0xaBCdEf0000000000000000000000000000000022',
    );
  });

  it('names every bad variable, one line each, never with its value (it may be a token or a URL with a key)', () => {
    const problems = problemsOf(() =>
      parseEnv({
        XMSG_L2_RPCS: 'not-a-url',
        XMSG_POLL_INTERVAL_MS: 'soon',
        XMSG_INBOX_ADDRESS: '0x1234',
        REDIS_URL: 'localhost:6379',
      }),
    );
    expect(problems).toHaveLength(4);
    expect(problems.find((p) => p.startsWith('XMSG_L2_RPCS:'))).toBe(
      'XMSG_L2_RPCS: entry 1 must be an http(s) URL, or <chain id>=<http(s) URL>',
    );
    expect(problems.find((p) => p.startsWith('XMSG_POLL_INTERVAL_MS:'))).toBe('XMSG_POLL_INTERVAL_MS: must be a number');
    expect(problems.find((p) => p.startsWith('XMSG_INBOX_ADDRESS:'))).toBe('XMSG_INBOX_ADDRESS: must be a 20-byte hex address');
    expect(problems.find((p) => p.startsWith('REDIS_URL:'))).toBe('REDIS_URL: must be a redis:// or rediss:// URL');
    const secret = problemsOf(() =>
      parseEnv({ XMSG_L2_RPCS: `${RPC_A},941=ftp://node/v3/SECRETKEY123`, REDIS_URL: 'redis//:SECRETKEY123@redis:6379' }),
    );
    expect(secret).toEqual([
      'REDIS_URL: must be a redis:// or rediss:// URL',
      'XMSG_L2_RPCS: entry 2 must be an http(s) URL, or <chain id>=<http(s) URL>',
    ]);
  });

  it.each([
    ['XMSG_POLL_INTERVAL_MS', '0'],
    ['XMSG_MAX_BLOCK_RANGE', '1.5'],
    ['XMSG_RPC_RETRIES', '-1'],
    ['XMSG_HTTP_PORT', '70000'],
    ['XMSG_LOG_LEVEL', 'verbose'],
    ['XMSG_REDIS_PREFIX', 'xmsg:prod'],
    ['XMSG_REDIS_PREFIX', 'my prefix'],
    ['SLACK_API_URL', 'ftp://slack.example'],
    ['DISCORD_PUBLIC_KEY', 'ab'.repeat(31)],
  ])('refuses %s=%s', (name, value) => {
    expect(problemsOf(() => parseEnv({ XMSG_L2_RPCS: RPC_A, [name]: value }))).toEqual([expect.stringMatching(new RegExp(`^${name}: `))]);
  });

  it('accepts zeros where zero means off, and a prefix pinned to one cluster slot', () => {
    const e = parseEnv({ XMSG_L2_RPCS: RPC_A, XMSG_START_BLOCKS_BACK: '0', XMSG_HEAD_STALL_S: '0', XMSG_REDIS_PREFIX: '{xmsg-prod}.v2' });
    expect(e).toMatchObject({ XMSG_START_BLOCKS_BACK: 0, XMSG_HEAD_STALL_S: 0, XMSG_REDIS_PREFIX: '{xmsg-prod}.v2' });
  });

  it('documents every variable it reads in .env.example, and nothing it does not read', async () => {
    // The demo's own settings close the file, under their own heading.
    const example = (await readFile(new URL('../.env.example', import.meta.url), 'utf8')).split('── demo only')[0]!;
    const documented = new Set([...example.matchAll(/^#? ?([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]!));
    expect([...ENV_VARIABLES].filter((v) => !documented.has(v))).toEqual([]);
    expect([...documented].filter((v) => !ENV_VARIABLES.includes(v))).toEqual([]);
  });
});

describe('loadConfig', () => {
  it('requires the RPC list', async () => {
    expect(await loadProblems({})).toEqual([expect.stringMatching(/^XMSG_L2_RPCS: is required/)]);
  });

  it('checks the Sentinel settings and reads their addresses', async () => {
    expect(await loadProblems({ XMSG_L2_RPCS: RPCS, REDIS_SENTINELS: '10.0.0.1' })).toEqual([
      expect.stringMatching(/^REDIS_SENTINELS: must be host:port/),
    ]);
    expect(await loadProblems({ XMSG_L2_RPCS: RPCS, REDIS_SENTINELS: '10.0.0.1:26379' })).toEqual([
      expect.stringMatching(/^REDIS_SENTINEL_NAME: required/),
    ]);
    const config = await loadConfig(
      { XMSG_L2_RPCS: RPCS, REDIS_SENTINELS: 'sentinel-a:26379, 10.0.0.2:26380', REDIS_SENTINEL_NAME: 'mymaster' },
      probe,
    );
    expect(config.redis).toMatchObject({
      sentinels: [
        { host: 'sentinel-a', port: 26379 },
        { host: '10.0.0.2', port: 26380 },
      ],
      sentinelName: 'mymaster',
    });
  });

  it('checks the Redis Cluster settings and puts the whole prefix in one hash tag', async () => {
    expect(await loadProblems({ XMSG_L2_RPCS: RPCS, REDIS_CLUSTER_NODES: '10.0.0.1' })).toEqual([
      expect.stringMatching(/^REDIS_CLUSTER_NODES: must be host:port/),
    ]);
    expect(
      await loadProblems({
        XMSG_L2_RPCS: RPCS,
        REDIS_CLUSTER_NODES: '10.0.0.1:7000',
        REDIS_SENTINELS: '10.0.0.2:26379',
        REDIS_SENTINEL_NAME: 'm',
      }),
    ).toEqual([expect.stringMatching(/^REDIS_CLUSTER_NODES: set it or REDIS_SENTINELS, not both/)]);
    expect(await loadProblems({ XMSG_L2_RPCS: RPCS, REDIS_CLUSTER_NODES: '10.0.0.1:7000', REDIS_URL: 'redis://:pw@x:1/2' })).toEqual([
      expect.stringMatching(/^REDIS_URL: names a database other than 0/),
    ]);
    const config = await loadConfig({ XMSG_L2_RPCS: RPCS, REDIS_CLUSTER_NODES: 'node-a:7000, 10.0.0.2:7001' }, probe);
    expect(config.redis.clusterNodes).toEqual([
      { host: 'node-a', port: 7000 },
      { host: '10.0.0.2', port: 7001 },
    ]);
    expect(config.prefix).toBe('{xmsg}');
    const tagged = await loadConfig({ XMSG_L2_RPCS: RPCS, REDIS_CLUSTER_NODES: 'node-a:7000', XMSG_REDIS_PREFIX: 'prod-{eu}' }, probe);
    expect(tagged.prefix).toBe('prod-{eu}');
    expect((await loadConfig({ XMSG_L2_RPCS: RPCS }, probe)).prefix).toBe('xmsg');
  });

  it('refuses a Redis socket timeout shorter than a BullMQ worker waits for a job', async () => {
    expect(await loadProblems({ XMSG_L2_RPCS: RPCS, XMSG_REDIS_SOCKET_TIMEOUT_S: '5' })).toEqual([
      expect.stringMatching(/^XMSG_REDIS_SOCKET_TIMEOUT_S: must be at least 15/),
    ]);
    expect((await loadConfig({ XMSG_L2_RPCS: RPCS }, probe)).redis.socketTimeoutMs).toBe(30_000);
  });

  it('requires the companions of a chat token', async () => {
    expect(await loadProblems({ XMSG_L2_RPCS: RPCS, SLACK_BOT_TOKEN: 'xoxb-1' })).toEqual([
      'SLACK_SIGNING_SECRET: required when SLACK_BOT_TOKEN is set',
      'SLACK_CHANNEL_ID: required when SLACK_BOT_TOKEN is set',
    ]);
    expect(await loadProblems({ XMSG_L2_RPCS: RPCS, DISCORD_BOT_TOKEN: 'token' })).toEqual([
      'DISCORD_APPLICATION_ID: required when DISCORD_BOT_TOKEN is set',
      'DISCORD_CHANNEL_ID: required when DISCORD_BOT_TOKEN is set',
    ]);
  });

  it('converts seconds to milliseconds where the code wants milliseconds', async () => {
    const config = await loadConfig({ XMSG_L2_RPCS: RPCS, XMSG_SHUTDOWN_GRACE_S: '7', XMSG_REDIS_SOCKET_TIMEOUT_S: '20' }, probe);
    expect(config.shutdownGraceMs).toBe(7000);
    expect(config.redis.socketTimeoutMs).toBe(20_000);
  });

  it('rejects two RPCs of the same chain', async () => {
    expect(await loadProblems({ XMSG_L2_RPCS: `${RPC_A},${RPC_A_AGAIN}` })).toEqual([
      `XMSG_L2_RPCS: ${RPC_A} and ${RPC_A_AGAIN} are both chain 941; give one RPC per chain`,
    ]);
  });

  it('names an RPC that does not answer by its host, with the first line of the error', async () => {
    expect(await loadProblems({ XMSG_L2_RPCS: `${RPCS},http://gone:8545/v3/SECRETKEY123`, XMSG_STARTUP_RPC_WAIT_S: '0' })).toEqual([
      'XMSG_L2_RPCS: http://gone:8545 did not answer eth_chainId (fetch failed)',
    ]);
  });

  /** A node answering `id` after failing `failures` times, counting the questions. */
  const flaky = (failures: number, id = 941) => {
    const asked = { count: 0 };
    const probe: ChainIdProbe = async () => {
      if (asked.count++ < failures) throw new Error('eth_chainId on http://flaky:8545: HTTP 503: Service Unavailable');
      return id;
    };
    return { asked, probe };
  };

  it('asks a node in a blip again with backoff until it answers, within XMSG_STARTUP_RPC_WAIT_S', async () => {
    const { asked, probe } = flaky(4);
    const config = await loadConfig(
      { XMSG_L2_RPCS: 'http://flaky:8545', XMSG_RPC_RETRY_DELAY_MS: '5', XMSG_STARTUP_RPC_WAIT_S: '5' },
      probe,
    );
    expect(config.chains).toEqual([{ chainId: 941, rpcUrl: 'http://flaky:8545' }]);
    expect(asked.count).toBe(5);
  });

  it('gives up on a node that does not answer once XMSG_STARTUP_RPC_WAIT_S has passed, and asks once with 0', async () => {
    const slow = flaky(1000);
    const startedAt = Date.now();
    const env = { XMSG_L2_RPCS: 'http://flaky:8545', XMSG_RPC_RETRY_DELAY_MS: '100' };
    await expect(loadConfig({ ...env, XMSG_STARTUP_RPC_WAIT_S: '1' }, slow.probe)).rejects.toThrow(
      'XMSG_L2_RPCS: http://flaky:8545 did not answer eth_chainId within 1 s (eth_chainId on http://flaky:8545: HTTP 503: Service Unavailable)',
    );
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(950);
    // 100, 200, 400 ms, then the rest of the second: 5 questions, not one every few ms.
    expect(slow.asked.count).toBeLessThanOrEqual(5);
    const once = flaky(1000);
    await expect(loadConfig({ ...env, XMSG_STARTUP_RPC_WAIT_S: '0' }, once.probe)).rejects.toThrow(ConfigError);
    expect(once.asked.count).toBe(1);
  });

  it('starts with a declared chain whose node is down, and refuses one whose node answers another chain', async () => {
    const down = flaky(1000);
    const config = await loadConfig({ XMSG_L2_RPCS: `${RPC_A},950=http://down:8545/v3/SECRETKEY123` }, async (url) =>
      url === RPC_A ? 941 : down.probe(url),
    );
    expect(config.chains).toEqual([
      { chainId: 941, rpcUrl: RPC_A },
      { chainId: 950, rpcUrl: 'http://down:8545/v3/SECRETKEY123', declared: true, unconfirmed: true },
    ]);
    // Asked once: the follower asks again, and reports the chain unhealthy while it does not answer.
    expect(down.asked.count).toBe(1);
    expect([...config.dependencySet.keys()]).toEqual([941, 950]);

    expect((await loadConfig({ XMSG_L2_RPCS: `941=${RPC_A},${RPC_B}` }, probe)).chains).toEqual([
      { chainId: 941, rpcUrl: RPC_A, declared: true },
      { chainId: 942, rpcUrl: RPC_B },
    ]);
  });

  it('refuses a declared chain whose node answers another chain id, naming the host only', async () => {
    const problems = await loadProblems({ XMSG_L2_RPCS: `942=${RPC_A},${RPC_B}` });
    expect(problems).toEqual(['XMSG_L2_RPCS: http://node-a:8545 is declared as chain 942 but answers eth_chainId 941']);
  });

  it.each(['0=http://node-a:8545', '07=http://node-a:8545', '99999999999999999999=http://node-a:8545'])(
    'refuses the declared chain id of %s',
    async (entry) => {
      expect(await loadProblems({ XMSG_L2_RPCS: entry })).toEqual([
        expect.stringMatching(/^XMSG_L2_RPCS: entry 1 \(http:\/\/node-a:8545\) declares chain id/),
      ]);
    },
  );
});

describe('the dependency set file', () => {
  const load = async (content: unknown) => loadConfig({ XMSG_L2_RPCS: RPCS, XMSG_DEPENDENCY_SET: await dependencySetFile(content) }, probe);
  const problemsWith = async (content: unknown) =>
    loadProblems({ XMSG_L2_RPCS: RPCS, XMSG_DEPENDENCY_SET: await dependencySetFile(content) });
  const entries = (c: { dependencySet: ReadonlyMap<number, { activationTime: bigint; historyMinTime: bigint }> }) =>
    Object.fromEntries([...c.dependencySet].map(([id, d]) => [id, { activationTime: d.activationTime, historyMinTime: d.historyMinTime }]));

  it('defaults to the configured chains and the 7-day expiry window', async () => {
    const config = await loadConfig({ XMSG_L2_RPCS: RPCS }, probe);
    expect([...config.dependencySet.keys()]).toEqual([941, 942]);
    expect(config.expiryWindowS).toBe(604_800);
    expect(entries(config)[941]).toEqual({ activationTime: 0n, historyMinTime: 0n });
  });

  it('reads the file op-node, op-supernode and kona read, with its activation times', async () => {
    const config = await load({
      dependencies: {
        '941': { chainIndex: 0, activationTime: 1_700_000_000, historyMinTime: 1_699_999_000 },
        '942': { chainIndex: 1, activationTime: 0, historyMinTime: 0 },
        '943': {},
      },
      overrideMessageExpiryWindow: 3600,
    });
    expect(entries(config)).toEqual({
      941: { activationTime: 1_700_000_000n, historyMinTime: 1_699_999_000n },
      942: { activationTime: 0n, historyMinTime: 0n },
      943: { activationTime: 0n, historyMinTime: 0n },
    });
    expect(config.expiryWindowS).toBe(3600);
  });

  it('reads a missing, null or zero overrideMessageExpiryWindow as the protocol window', async () => {
    for (const override of [{}, { overrideMessageExpiryWindow: null }, { overrideMessageExpiryWindow: 0 }]) {
      expect((await load({ dependencies: { '941': {}, '942': {} }, ...override })).expiryWindowS).toBe(604_800);
    }
    expect((await load({ dependencies: { '941': {} }, overrideMessageExpiryWindow: 604_800 })).expiryWindowS).toBe(604_800);
  });

  it('refuses an overrideMessageExpiryWindow above 604800 s, which may only shorten the window', async () => {
    expect(await problemsWith({ dependencies: { '941': {} }, overrideMessageExpiryWindow: 604_801 })).toEqual([
      expect.stringMatching(
        /^XMSG_DEPENDENCY_SET: .*\.json: overrideMessageExpiryWindow: 604801 s is longer than the protocol's 604800 s message expiry window, which a dependency set may shorten, never lengthen$/,
      ),
    ]);
    expect(await problemsWith({ chainIds: [941], expiryWindow: 700_000 })).toEqual([
      expect.stringMatching(/: expiryWindow: 700000 s is longer than the protocol's 604800 s message expiry window/),
    ]);
  });

  it('refuses an unknown key, in the file or in an entry, naming it', async () => {
    expect(await problemsWith({ dependencies: { '941': {} }, overrideMessageExpiryWindw: 60 })).toEqual([
      expect.stringMatching(
        /^XMSG_DEPENDENCY_SET: .*\.json: unknown key "overrideMessageExpiryWindw" \(known: dependencies, overrideMessageExpiryWindow\)$/,
      ),
    ]);
    expect(await problemsWith({ dependencies: { '941': { activation_time: 5 } } })).toEqual([
      expect.stringMatching(/: dependencies\.941: unknown key "activation_time" \(known: chainIndex, activationTime, historyMinTime\)$/),
    ]);
  });

  it('refuses a malformed chain id, a bad field and a duplicate chain index, one line each', async () => {
    expect(
      await problemsWith({
        dependencies: { '0x3ad': {}, '0941': {}, '-5': {}, '99999999999999999999': {}, '942': { chainIndex: 1 }, '943': { chainIndex: 1 } },
      }),
    ).toEqual([
      // In JSON.parse's key order: index-like keys first.
      expect.stringMatching(/: dependencies: chains 942 and 943 have the same chainIndex 1$/),
      expect.stringMatching(/: dependencies: "0x3ad" is not a chain id \(a decimal number without leading zeros\)$/),
      expect.stringMatching(/: dependencies: "0941" is not a chain id/),
      expect.stringMatching(/: dependencies: "-5" is not a chain id/),
      expect.stringMatching(/: dependencies: chain id 99999999999999999999 is larger than xmsg supports \(2\^53 - 1\)$/),
    ]);
    expect(await problemsWith({ dependencies: { '941': { activationTime: -1 } } })).toEqual([
      expect.stringMatching(/: dependencies\.941\.activationTime: /),
    ]);
    expect(await problemsWith({ dependencies: { '941': { activationTime: '1700000000' } } })).toEqual([
      expect.stringMatching(/: dependencies\.941\.activationTime: /),
    ]);
    expect(await problemsWith({ dependencies: {} })).toEqual([expect.stringMatching(/: dependencies: names no chain$/)]);
  });

  it('keeps the short form: chain ids as numbers or digit strings, and its expiry window', async () => {
    const config = await load({ chainIds: [941, '942'], expiryWindow: 3600 });
    expect([...config.dependencySet.keys()]).toEqual([941, 942]);
    expect(config.expiryWindowS).toBe(3600);
    // A subset of the configured chains: the others are followed but outside the set.
    const subset = await load({ chainIds: [941] });
    expect([...subset.dependencySet.keys()]).toEqual([941]);
    expect(subset.expiryWindowS).toBe(604_800);
  });

  it('accepts a chain without an RPC (its messages are unverified, the checker warns at start)', async () => {
    const config = await load({ dependencies: { '941': {}, '942': {}, '999': {} } });
    expect([...config.dependencySet.keys()]).toEqual([941, 942, 999]);
    expect(config.chains.map((c) => c.chainId)).toEqual([941, 942]);
  });

  it('rejects a malformed file, one that is not JSON, and a missing one, on one line each', async () => {
    const malformed = await dependencySetFile({ chains: 'all' });
    expect(await loadProblems({ XMSG_L2_RPCS: RPCS, XMSG_DEPENDENCY_SET: malformed })).toEqual([
      `XMSG_DEPENDENCY_SET: ${malformed}: needs "dependencies" (the op-node/op-supernode/kona file: {"dependencies": {"<chain id>": {}}}) or "chainIds" (xmsg's short form)`,
    ]);
    for (const content of [{ chainIds: [] }, { chainIds: [941], expiryWindow: 0 }, { chainIds: ['nine'] }, [941], 'null']) {
      expect(await problemsWith(content)).toEqual([expect.stringMatching(/^XMSG_DEPENDENCY_SET: /)]);
    }
    const notJson = await dependencySetFile('{ chainIds: [941] ');
    expect(await loadProblems({ XMSG_L2_RPCS: RPCS, XMSG_DEPENDENCY_SET: notJson })).toEqual([
      expect.stringMatching(new RegExp(`^XMSG_DEPENDENCY_SET: cannot read ${notJson} as JSON \\(`)),
    ]);
    const missing = join(dir, 'missing.json');
    expect(await loadProblems({ XMSG_L2_RPCS: RPCS, XMSG_DEPENDENCY_SET: missing })).toEqual([
      expect.stringMatching(new RegExp(`^XMSG_DEPENDENCY_SET: cannot read ${missing} as JSON \\(ENOENT`)),
    ]);
  });
});

describe('the escalation ladder', () => {
  const load = (env: NodeJS.ProcessEnv) => loadConfig({ XMSG_L2_RPCS: RPCS, ...env }, probe);
  async function policyFile(content: unknown): Promise<string> {
    const path = join(dir, `escalation-policy-${Math.random().toString(36).slice(2)}.json`);
    await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
    return path;
  }

  it('is built from XMSG_ESCALATE_AFTER_S and XMSG_ESCALATION_REPEAT_S without a policy file', async () => {
    const config = await load({ XMSG_ESCALATE_AFTER_S: '60', XMSG_ESCALATION_REPEAT_S: '120' });
    expect(config.alerts.escalation.invalid_message).toEqual({
      levels: [
        { afterS: 60, targets: ['oncall'] },
        { afterS: 120, targets: ['oncall'] },
        { afterS: 120, targets: ['escalation'] },
      ],
      repeatEveryS: 120,
    });
    expect(config.alerts.escalation.cross_safety_violation.levels[0]).toEqual({ afterS: 0, targets: ['oncall'] });
  });

  it('follows XMSG_ESCALATION_POLICY', async () => {
    const path = await policyFile({ kind: { unpromoted: { levels: [{ afterS: 30, targets: ['escalation'] }] } } });
    const config = await load({ XMSG_ESCALATION_POLICY: path, XMSG_ESCALATION_REPEAT_S: '45' });
    expect(config.alerts.escalation.unpromoted).toEqual({ levels: [{ afterS: 30, targets: ['escalation'] }], repeatEveryS: 45 });
  });

  it('stops the start on a bad policy file, one line per problem, beside the other problems', async () => {
    const bad = await policyFile({ default: { levels: [], repeatEveryS: 'often' } });
    expect(await loadProblems({ XMSG_L2_RPCS: RPCS, XMSG_ESCALATION_POLICY: bad, SLACK_BOT_TOKEN: 'xoxb-1' })).toEqual([
      `XMSG_ESCALATION_POLICY: ${bad}: default.levels: Too small: expected array to have >=1 items`,
      `XMSG_ESCALATION_POLICY: ${bad}: default.repeatEveryS: Invalid input: expected number, received string`,
      'SLACK_SIGNING_SECRET: required when SLACK_BOT_TOKEN is set',
      'SLACK_CHANNEL_ID: required when SLACK_BOT_TOKEN is set',
    ]);
    const notJson = await policyFile('{ levels');
    expect(await loadProblems({ XMSG_L2_RPCS: RPCS, XMSG_ESCALATION_POLICY: notJson })).toEqual([
      expect.stringMatching(new RegExp(`^XMSG_ESCALATION_POLICY: cannot read ${notJson} as JSON \\(.+\\)$`)),
    ]);
  });

  it('gives Discord its escalation role', async () => {
    const discord = { DISCORD_BOT_TOKEN: 't', DISCORD_APPLICATION_ID: '1', DISCORD_CHANNEL_ID: '2', DISCORD_ONCALL_ROLE_ID: '3' };
    expect((await load({ ...discord, DISCORD_ESCALATION_ROLE_ID: '4' })).discord).toMatchObject({
      oncallRoleId: '3',
      escalationRoleId: '4',
    });
    expect((await load(discord)).discord?.escalationRoleId).toBeUndefined();
  });
});
