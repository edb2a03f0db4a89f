/**
 * Starting through a flaky or dead RPC, and keeping RPC URLs (with their API keys) out of the logs (issue 13).
 * Each replica is an OS process started as `npm start` starts it, its stdout and stderr captured whole.
 */
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { emitInitiating, executeMessage } from '../src/devnet/devnet.js';
import { apiAlerts, SLACK, sendBatch, slackEnv, useChaosWorld, waitForRoots } from './chaos/lib.js';
import { waitFor, waitForMessage } from './helpers/xmsg.js';

const A = 985;
const B = 986;
const SECRET = 'SECRETKEY123';

const world = useChaosWorld('startup-rpc', [A, B], { scope: 'test' });

afterEach(() => {
  for (const c of world.devnet.chains) c.proxy.setFaults({});
});

/** Node B's proxy as a hosted endpoint's URL: the API key in the path and the query. */
const keyedUrlOfB = () => `${world.devnet.chain(B).proxy.url}/v3/${SECRET}?apikey=${SECRET}`;
const logOf = async (path: string | undefined) => (path ? readFile(path, 'utf8') : '');

describe('starting through a flaky or dead RPC', () => {
  it('comes up on the first try while its chain RPC fails 30% of requests', { timeout: 90_000 }, async () => {
    // Seed 66 fails the first three requests, so the one eth_chainId of before (retried once) could not pass.
    world.devnet.chain(B).proxy.setFaults({ failRate: 0.3, seed: 66 });
    const replica = world.replica('flaky', { XMSG_STARTUP_RPC_WAIT_S: '30' });
    await replica.start();
    expect(replica.alive).toBe(true);
    const log = await logOf(replica.logPath);
    expect(log).not.toContain('xmsg: config');
    expect(world.devnet.chain(B).proxy.counts().eth_chainId).toBeGreaterThanOrEqual(4);
  });

  it('starts with a declared chain whose node is down, alerts chain_unhealthy, and checks its messages once it is back', {
    timeout: 150_000,
  }, async () => {
    const a = world.devnet.chain(A);
    const b = world.devnet.chain(B);
    b.proxy.setFaults({ down: true });
    const replica = world.replica('declared-down', {
      ...slackEnv(world.slack),
      XMSG_L2_RPCS: `${a.rpcUrl},${B}=${b.proxy.url}`,
      XMSG_STARTUP_RPC_WAIT_S: '2',
      XMSG_UNHEALTHY_AFTER_FAILURES: '2',
      XMSG_ALERT_GROUP_WINDOW_S: '1',
      // Where B's follower starts when its node first answers: far enough back for what was sent while it was down.
      XMSG_START_BLOCKS_BACK: '50',
    });
    await replica.start();

    const unhealthy = await waitFor(
      'a chain_unhealthy alert for B',
      async () => (await apiAlerts(replica.baseUrl)).find((al) => al.kind === 'chain_unhealthy' && al.chainId === B),
      60_000,
    );
    const roots = await waitForRoots(world.slack, SLACK.channel, [unhealthy.id], 30_000);
    expect(roots.get(unhealthy.id)?.[0]?.text).toContain(`Chain ${B}`);

    // A message executed on B while its node is down, and one after it is back: both checked.
    const [whileDown] = await sendBatch(a, b, 1);
    b.proxy.setFaults({});
    const init = await emitInitiating(a);
    await executeMessage(b, init.identifier, init.msgHash);
    await waitForMessage(replica.baseUrl, whileDown!.msgHash, { status: 'valid' }, 60_000);
    await waitForMessage(replica.baseUrl, init.msgHash, { status: 'valid' }, 60_000);
    await waitFor(
      'the chain_unhealthy alert resolved',
      async () => (await apiAlerts(replica.baseUrl)).find((al) => al.id === unhealthy.id && al.state === 'resolved'),
      60_000,
    );
  });

  it('stops the start when a declared chain answers with another chain id', { timeout: 60_000 }, async () => {
    const replica = world.replica('wrong-chain', { XMSG_L2_RPCS: `${world.devnet.chain(A).rpcUrl},${A + 100}=${keyedUrlOfB()}` });
    await expect(replica.start()).rejects.toThrow(/exited/);
    expect(await replica.exitStatus()).toMatchObject({ code: 2 });
    const log = await logOf(replica.logPath);
    expect(log).toContain(
      `xmsg: config: XMSG_L2_RPCS: ${world.devnet.chain(B).proxy.url} is declared as chain ${A + 100} but answers eth_chainId ${B}`,
    );
    expect(log).not.toContain(SECRET);
  });
});

describe('no secrets in the logs', () => {
  it('never logs an RPC URL with a key in its path, nor the chat token, through a failing run', { timeout: 120_000 }, async () => {
    const a = world.devnet.chain(A);
    const b = world.devnet.chain(B);
    b.proxy.setFaults({ failRate: 1 });
    const replica = world.replica('secret', {
      ...slackEnv(world.slack),
      XMSG_LOG_LEVEL: 'debug',
      XMSG_L2_RPCS: `${a.rpcUrl},${B}=${keyedUrlOfB()}`,
      XMSG_UNHEALTHY_AFTER_FAILURES: '2',
      XMSG_ALERT_GROUP_WINDOW_S: '1',
    });
    await replica.start();
    // B fails as a followed chain (its follower) and as a source chain (a message on A initiated on B).
    await sendBatch(b, a, 2);
    await waitFor('B reported unhealthy in the log', async () => (await logOf(replica.logPath)).includes('"chain unhealthy"'), 60_000);
    await waitFor('a check of a message from B failing', async () => /failed|retry/i.test(await logOf(replica.logPath)), 30_000);
    await replica.stop();

    // And a start that gives up on a URL-only RPC that keeps failing: its configuration error.
    const giveUp = world.replica('secret-start', { XMSG_L2_RPCS: `${a.rpcUrl},${keyedUrlOfB()}`, XMSG_STARTUP_RPC_WAIT_S: '1' });
    await expect(giveUp.start()).rejects.toThrow(/exited/);
    expect(await giveUp.exitStatus()).toMatchObject({ code: 2 });

    const run = await logOf(replica.logPath);
    const start = await logOf(giveUp.logPath);
    for (const output of [run, start]) {
      expect(output).not.toContain(SECRET);
      expect(output).not.toContain('/v3/');
      expect(output).not.toContain(SLACK.token);
      expect(output).not.toContain(SLACK.secret);
    }
    // The host is what they name instead.
    expect(run).toContain(`on ${b.proxy.url}: HTTP 503`);
    expect(start).toContain(`xmsg: config: XMSG_L2_RPCS: ${b.proxy.url} did not answer eth_chainId within 1 s`);
  });
});
