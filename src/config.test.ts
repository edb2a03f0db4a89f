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
      XMSG_REDIS_SOCKET_TIMEOUT_S: 30,
      XMSG_REDIS_PREFIX: 'xmsg',
      XMSG_L2_RPCS: [RPC_A],
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
    expect(e.XMSG_L2_RPCS).toEqual([RPC_A, RPC_B]);
    expect(e.SLACK_ADMIN_USER_IDS).toEqual(['U1', 'U2']);
    expect(e.DISCORD_ADMIN_ROLE_IDS).toEqual(['42']);
    expect(problemsOf(() => parseEnv({ XMSG_L2_RPCS: ',' }))).toEqual(['XMSG_L2_RPCS: needs at least one RPC URL (got ",")']);
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
    expect(problemsOf(() => parseEnv({ XMSG_L2_RPCS: RPC_A, XMSG_CONSOLE: 'yes' }))).toEqual([
      'XMSG_CONSOLE: must be 1 (on) or 0 (off) (got "yes")',
    ]);
  });

  it('checksums the inbox address', () => {
    expect(parseEnv({ XMSG_L2_RPCS: RPC_A, XMSG_INBOX_ADDRESS: '0xabcdef0000000000000000000000000000000022' }).XMSG_INBOX_ADDRESS).toBe(
      '0xaBCdEf0000000000000000000000000000000022',
    );
  });

  it('names every bad variable, one line each, with what it got', () => {
    const problems = problemsOf(() =>
      parseEnv({
        XMSG_L2_RPCS: 'not-a-url',
        XMSG_POLL_INTERVAL_MS: 'soon',
        XMSG_INBOX_ADDRESS: '0x1234',
        REDIS_URL: 'localhost:6379',
      }),
    );
    expect(problems).toHaveLength(4);
    expect(problems.find((p) => p.startsWith('XMSG_L2_RPCS:'))).toMatch(/http\(s\) URL/);
    expect(problems.find((p) => p.startsWith('XMSG_POLL_INTERVAL_MS:'))).toContain('"soon"');
    expect(problems.find((p) => p.startsWith('XMSG_INBOX_ADDRESS:'))).toBe(
      'XMSG_INBOX_ADDRESS: must be a 20-byte hex address (got "0x1234")',
    );
    expect(problems.find((p) => p.startsWith('REDIS_URL:'))).toBe('REDIS_URL: must be a redis:// or rediss:// URL (got "localhost:6379")');
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

  it('names an RPC that does not answer with the first line of the error', async () => {
    expect(await loadProblems({ XMSG_L2_RPCS: `${RPCS},http://gone:8545` })).toEqual([
      'XMSG_L2_RPCS: http://gone:8545 did not answer eth_chainId (fetch failed)',
    ]);
  });
});

describe('the dependency set file', () => {
  it('defaults to the configured chains and the 7-day expiry window', async () => {
    const config = await loadConfig({ XMSG_L2_RPCS: RPCS }, probe);
    expect([...config.dependencySet]).toEqual([941, 942]);
    expect(config.expiryWindowS).toBe(604_800);
  });

  it('reads chain ids as numbers or digit strings, and its expiry window', async () => {
    const path = await dependencySetFile({ chainIds: [941, '942'], expiryWindow: 3600 });
    const config = await loadConfig({ XMSG_L2_RPCS: RPCS, XMSG_DEPENDENCY_SET: path }, probe);
    expect([...config.dependencySet]).toEqual([941, 942]);
    expect(config.expiryWindowS).toBe(3600);
    // A subset of the configured chains: the others are followed but outside the set.
    const subset = await loadConfig({ XMSG_L2_RPCS: RPCS, XMSG_DEPENDENCY_SET: await dependencySetFile({ chainIds: [941] }) }, probe);
    expect([...subset.dependencySet]).toEqual([941]);
    expect(subset.expiryWindowS).toBe(604_800);
  });

  it('rejects a chain without an RPC, unless an RPC failed to answer (already reported)', async () => {
    const path = await dependencySetFile({ chainIds: [941, 942, 999] });
    expect(await loadProblems({ XMSG_L2_RPCS: RPCS, XMSG_DEPENDENCY_SET: path })).toEqual([
      'XMSG_DEPENDENCY_SET: chain(s) 999 have no RPC in XMSG_L2_RPCS',
    ]);
    expect(await loadProblems({ XMSG_L2_RPCS: `${RPCS},http://gone:8545`, XMSG_DEPENDENCY_SET: path })).toEqual([
      expect.stringMatching(/^XMSG_L2_RPCS: http:\/\/gone:8545 did not answer/),
    ]);
  });

  it('rejects a malformed file, one that is not JSON, and a missing one, on one line each', async () => {
    const malformed = await dependencySetFile({ chains: 'all' });
    expect(await loadProblems({ XMSG_L2_RPCS: RPCS, XMSG_DEPENDENCY_SET: malformed })).toEqual([
      expect.stringMatching(new RegExp(`^XMSG_DEPENDENCY_SET: ${malformed}: .*chainIds[^\\n]*$`)),
    ]);
    for (const content of [{ chainIds: [] }, { chainIds: [941], expiryWindow: 0 }, { chainIds: ['nine'] }]) {
      expect(await loadProblems({ XMSG_L2_RPCS: RPCS, XMSG_DEPENDENCY_SET: await dependencySetFile(content) })).toEqual([
        expect.stringMatching(/^XMSG_DEPENDENCY_SET: /),
      ]);
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
