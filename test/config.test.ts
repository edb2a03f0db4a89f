import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeChainId } from '../src/chain/rpc.js';
import { ConfigError, loadConfig } from '../src/config.js';
import { type Devnet, startDevnet } from '../src/devnet/devnet.js';

// What needs real nodes: chain ids asked of them, one that does not answer, and `npm start` stopping. The parsing
// and checking of the environment and of the dependency set file are unit tests in src/config.test.ts.
let devnet: Devnet;
beforeAll(async () => {
  devnet = await startDevnet({ chainIds: [941, 942] });
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
    expect([...config.dependencySet.keys()]).toEqual([941, 942]);
    expect(config.expiryWindowS).toBe(604_800);
    expect(config.pollIntervalMs).toBe(1000);
    expect(config.inbox).toBe('0x4200000000000000000000000000000000000022');
  });

  it('rejects an RPC that does not answer eth_chainId', async () => {
    const problems = await problemsOf({ XMSG_L2_RPCS: `${rpcs()},http://127.0.0.1:9/`, XMSG_STARTUP_RPC_WAIT_S: '0' });
    expect(problems).toEqual([expect.stringMatching(/^XMSG_L2_RPCS: http:\/\/127\.0\.0\.1:9 did not answer eth_chainId/)]);
  });

  it('stops `npm start` with the problems and a non-zero exit, before connecting anywhere', async () => {
    const { code, lines } = await start({ XMSG_L2_RPCS: 'ftp://nowhere', XMSG_HTTP_PORT: '70000' });
    expect(code).toBe(2);
    expect(lines).toEqual([
      expect.stringMatching(/^xmsg: config: XMSG_L2_RPCS: entry 1 must be an http\(s\) URL/),
      expect.stringMatching(/^xmsg: config: XMSG_HTTP_PORT: /),
    ]);
  });

  it('stops `npm start` on a dependency set that would lengthen the expiry window, with the chains answering', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'xmsg-config-')), 'dependency-set.json');
    await writeFile(path, JSON.stringify({ dependencies: { '941': {}, '942': {}, '999': {} }, overrideMessageExpiryWindow: 700_000 }));
    const { code, lines } = await start({ XMSG_L2_RPCS: rpcs(), XMSG_DEPENDENCY_SET: path });
    expect(code).toBe(2);
    // Chain 999 has no RPC: not a problem (its messages are unverified); the window is.
    expect(lines).toEqual([
      `xmsg: config: XMSG_DEPENDENCY_SET: ${path}: overrideMessageExpiryWindow: 700000 s is longer than the protocol's 604800 s message expiry window, which a dependency set may shorten, never lengthen`,
    ]);
  });
});

/** `npm start`'s entry point with only this environment (and a Redis nothing answers at); its exit code and stderr lines. */
async function start(env: Record<string, string>): Promise<{ code: number | null; lines: string[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { PATH: process.env.PATH, REDIS_URL: 'redis://127.0.0.1:1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, lines: stderr.trim().split('\n') };
}
