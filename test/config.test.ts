import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeChainId } from '../src/chain/rpc.js';
import { ConfigError, ENV_VARIABLES, loadConfig } from '../src/config.js';
import { type Devnet, startDevnet } from '../src/devnet/devnet.js';

let devnet: Devnet;
let dir: string;
beforeAll(async () => {
  devnet = await startDevnet({ chainIds: [941, 942] });
  dir = await mkdtemp(join(tmpdir(), 'xmsg-config-'));
});
afterAll(async () => {
  await devnet?.stop();
});

const rpcs = () => devnet.chains.map((c) => c.rpcUrl).join(',');
const probe = (url: string) => probeChainId(url, 2000);

async function problemsOf(env: NodeJS.ProcessEnv): Promise<string[]> {
  try {
    await loadConfig(env, probe);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('configuration', () => {
  it('reads chain ids from the RPCs and defaults the dependency set to them', async () => {
    const config = await loadConfig({ XMSG_L2_RPCS: rpcs() }, probe);
    expect(config.chains.map((c) => c.chainId)).toEqual([941, 942]);
    expect([...config.dependencySet]).toEqual([941, 942]);
    expect(config.expiryWindowS).toBe(604_800);
    expect(config.pollIntervalMs).toBe(1000);
    expect(config.inbox).toBe('0x4200000000000000000000000000000000000022');
  });

  it('names every bad variable, one line each', async () => {
    const problems = await problemsOf({
      XMSG_L2_RPCS: 'not-a-url',
      XMSG_POLL_INTERVAL_MS: 'soon',
      XMSG_INBOX_ADDRESS: '0x1234',
      REDIS_URL: 'localhost:6379',
    });
    expect(problems).toHaveLength(4);
    expect(problems.find((p) => p.startsWith('XMSG_L2_RPCS:'))).toMatch(/http\(s\) URL/);
    expect(problems.find((p) => p.startsWith('XMSG_POLL_INTERVAL_MS:'))).toContain('"soon"');
    expect(problems.find((p) => p.startsWith('XMSG_INBOX_ADDRESS:'))).toMatch(/address/);
    expect(problems.find((p) => p.startsWith('REDIS_URL:'))).toMatch(/redis:\/\//);
  });

  it('checks the Sentinel settings', async () => {
    expect(await problemsOf({ XMSG_L2_RPCS: rpcs(), REDIS_SENTINELS: '10.0.0.1' })).toEqual([
      expect.stringMatching(/^REDIS_SENTINELS: must be host:port/),
    ]);
    expect(await problemsOf({ XMSG_L2_RPCS: rpcs(), REDIS_SENTINELS: '10.0.0.1:26379' })).toEqual([
      expect.stringMatching(/^REDIS_SENTINEL_NAME: required/),
    ]);
  });

  it('refuses a Redis socket timeout shorter than a BullMQ worker waits for a job', async () => {
    expect(await problemsOf({ XMSG_L2_RPCS: rpcs(), XMSG_REDIS_SOCKET_TIMEOUT_S: '5' })).toEqual([
      expect.stringMatching(/^XMSG_REDIS_SOCKET_TIMEOUT_S: must be at least 15/),
    ]);
    expect((await loadConfig({ XMSG_L2_RPCS: rpcs() }, probe)).redis.socketTimeoutMs).toBe(30_000);
  });

  it('documents every variable it reads in .env.example, and nothing it does not read', async () => {
    // The demo's own settings close the file, under their own heading.
    const example = (await readFile(new URL('../.env.example', import.meta.url), 'utf8')).split('── demo only')[0]!;
    const documented = new Set([...example.matchAll(/^#? ?([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]!));
    expect([...ENV_VARIABLES].filter((v) => !documented.has(v))).toEqual([]);
    expect([...documented].filter((v) => !ENV_VARIABLES.includes(v))).toEqual([]);
  });

  it('requires the RPC list', async () => {
    expect(await problemsOf({})).toEqual([expect.stringMatching(/^XMSG_L2_RPCS: is required/)]);
  });

  it('rejects an RPC that does not answer eth_chainId', async () => {
    const problems = await problemsOf({ XMSG_L2_RPCS: `${rpcs()},http://127.0.0.1:9/` });
    expect(problems).toEqual([expect.stringMatching(/^XMSG_L2_RPCS: http:\/\/127\.0\.0\.1:9\/ did not answer eth_chainId/)]);
  });

  it('rejects two RPCs of the same chain', async () => {
    const a = devnet.chain(941);
    const problems = await problemsOf({ XMSG_L2_RPCS: `${a.rpcUrl},${a.anvilUrl}` });
    expect(problems).toEqual([expect.stringMatching(/are both chain 941/)]);
  });

  it('rejects a dependency set naming a chain with no RPC, and a malformed one', async () => {
    const missing = join(dir, 'missing.json');
    await writeFile(missing, JSON.stringify({ chainIds: [941, 942, 999] }));
    expect(await problemsOf({ XMSG_L2_RPCS: rpcs(), XMSG_DEPENDENCY_SET: missing })).toEqual([
      expect.stringMatching(/^XMSG_DEPENDENCY_SET: chain\(s\) 999 have no RPC/),
    ]);

    const malformed = join(dir, 'malformed.json');
    await writeFile(malformed, JSON.stringify({ chains: 'all' }));
    expect(await problemsOf({ XMSG_L2_RPCS: rpcs(), XMSG_DEPENDENCY_SET: malformed })).toEqual([
      expect.stringMatching(/^XMSG_DEPENDENCY_SET: .*chainIds/),
    ]);
  });

  it('stops `npm start` with the problems and a non-zero exit, before connecting anywhere', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { PATH: process.env.PATH, XMSG_L2_RPCS: 'ftp://nowhere', XMSG_HTTP_PORT: '70000', REDIS_URL: 'redis://127.0.0.1:1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(2);
    const lines = stderr.trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/^xmsg: config: XMSG_L2_RPCS: must be an http\(s\) URL/),
      expect.stringMatching(/^xmsg: config: XMSG_HTTP_PORT: /),
    ]);
  });
});
