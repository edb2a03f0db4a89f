import { Redis } from 'ioredis';
import { type Hex, keccak256, toHex } from 'viem';
import { describe, expect, it } from 'vitest';
import { EXECUTING_MESSAGE_TOPIC } from '../src/chain/inbox.js';
import { type DevChain, emitInitiating, emitRawFromInbox, executeMessage, latestBlock } from '../src/devnet/devnet.js';
import type { MessageEvent } from '../src/events/types.js';
import { useWorld } from './helpers/world.js';
import { messagesFor, metricValue, type RunningXmsg, waitFor, waitForMessage } from './helpers/xmsg.js';

const A = 921;
const B = 922;

// Anvil's own labels trail the head by 32/64 blocks; held at 0 nothing is promoted or dropped under these tests.
const world = useWorld({ name: 'watcher', chainIds: [A, B], scope: 'test', holdLabels: 'once', mineBeforeXmsg: true });

const start = (prefix: string, overrides: Record<string, string> = {}) => world.startXmsg(overrides, prefix);

interface Sent {
  msgHash: Hex;
  invalid: boolean;
}

/** `count` messages executed on `to` from logs on the other chain, every fifth one forged. */
async function sendMessages(from: DevChain, to: DevChain, count: number): Promise<Sent[]> {
  const sent: Sent[] = [];
  for (let i = 0; i < count; i++) {
    const init = await emitInitiating(from);
    const invalid = i % 5 === 4;
    const msgHash = invalid ? keccak256(toHex(`forged ${init.msgHash}`)) : init.msgHash;
    await executeMessage(to, init.identifier, msgHash);
    sent.push({ msgHash, invalid });
  }
  return sent;
}

async function settledCount(x: RunningXmsg): Promise<number> {
  const counts = await x.app.store.statusCounts();
  return counts.filter((c) => c.status !== 'future' && c.status !== 'unknown').reduce((n, c) => n + c.count, 0);
}

const invalidEvents = (xs: RunningXmsg[]) => xs.flatMap((x) => x.events).filter((e): e is MessageEvent => e.type === 'invalid_message');

describe('watcher', () => {
  it('skips malformed inbox logs with a warning metric and carries on', async () => {
    const x = await start(world.newPrefix('malformed'));
    const b = world.devnet.chain(B);
    await emitRawFromInbox(b, [EXECUTING_MESSAGE_TOPIC, keccak256('0x01'), keccak256('0x02')], `0x${'00'.repeat(160)}`);
    await emitRawFromInbox(b, [EXECUTING_MESSAGE_TOPIC, keccak256('0x03')], '0x1234');
    const [ok] = await sendMessages(world.devnet.chain(A), b, 1);
    await waitForMessage(x.baseUrl, ok!.msgHash, { status: 'valid' });

    const metrics = await (await fetch(`${x.baseUrl}/metrics`)).text();
    expect(metricValue(metrics, `xmsg_malformed_logs_total{chain_id="${B}"}`)).toBe(2);
    expect(metricValue(metrics, `xmsg_messages_seen_total{executing_chain_id="${B}"}`)).toBe(1);
  });

  it('backfills every block missed while stopped and processes each message exactly once', async () => {
    const prefix = world.newPrefix('restart');
    const first = await start(prefix);
    // Something seen before the stop, so the restart must not redo it.
    const early = await sendMessages(world.devnet.chain(A), world.devnet.chain(B), 5);
    await waitFor('early messages', async () => (await settledCount(first)) === 5);
    await world.stopXmsg(first);

    const whileDown = [
      ...(await sendMessages(world.devnet.chain(A), world.devnet.chain(B), 35)),
      ...(await sendMessages(world.devnet.chain(B), world.devnet.chain(A), 35)),
    ];
    const second = await start(prefix);
    const all = [...early, ...whileDown];
    await waitFor('every message settled', async () => (await settledCount(second)) === all.length, 30_000);

    for (const m of all) {
      const found = await messagesFor(second.baseUrl, m.msgHash);
      expect(found, m.msgHash).toHaveLength(1);
      expect(found![0]!.status).toBe(m.invalid ? 'invalid' : 'valid');
      expect(found![0]!.history.filter((h) => h.what.startsWith('status'))).toHaveLength(1);
    }
    const expectedInvalid = all
      .filter((m) => m.invalid)
      .map((m) => m.msgHash)
      .sort();
    await waitFor('invalid events', () => invalidEvents([first, second]).length >= expectedInvalid.length);
    await new Promise((r) => setTimeout(r, 300));
    expect(
      invalidEvents([first, second])
        .map((e) => e.message.msgHash)
        .sort(),
    ).toEqual(expectedInvalid);
    const metrics = await (await fetch(`${second.baseUrl}/metrics`)).text();
    expect(metricValue(metrics, 'xmsg_messages_seen_total')).toBe(whileDown.length);
  });

  it('two replicas on one Redis make one job and one event per message', async () => {
    const prefix = world.newPrefix('replicas');
    const replicas = [await start(prefix), await start(prefix)];
    const sent = [
      ...(await sendMessages(world.devnet.chain(A), world.devnet.chain(B), 20)),
      ...(await sendMessages(world.devnet.chain(B), world.devnet.chain(A), 20)),
    ];
    await waitFor('every message settled', async () => (await settledCount(replicas[0]!)) === sent.length, 30_000);
    for (const m of sent) expect(await messagesFor(replicas[1]!.baseUrl, m.msgHash), m.msgHash).toHaveLength(1);

    const expectedInvalid = sent
      .filter((m) => m.invalid)
      .map((m) => m.msgHash)
      .sort();
    await waitFor('invalid events', () => invalidEvents(replicas).length >= expectedInvalid.length);
    await new Promise((r) => setTimeout(r, 300));
    expect(
      invalidEvents(replicas)
        .map((e) => e.message.msgHash)
        .sort(),
    ).toEqual(expectedInvalid);

    const seen = await Promise.all(
      replicas.map(async (x) => metricValue(await (await fetch(`${x.baseUrl}/metrics`)).text(), 'xmsg_messages_seen_total')),
    );
    expect(seen[0]! + seen[1]!).toBe(sent.length);
  });

  it('backfills through a node that caps eth_getLogs results: splits the range once, not on every read, and stays healthy', async () => {
    const prefix = world.newPrefix('logs-cap');
    const first = await start(prefix);
    await world.stopXmsg(first);
    const b = world.devnet.chain(B);
    const redis = new Redis(world.redisUrl);
    const cursor = BigInt((await redis.hget(first.app.store.keys.cursor(B), 'number').finally(() => redis.disconnect()))!);
    // One message per block on B while no replica runs.
    const sent = await sendMessages(world.devnet.chain(A), b, 30);
    const behind = Number((await latestBlock(b)).number - cursor);

    b.proxy.setFaults({ logsLimit: 4 });
    b.proxy.resetCounts();
    try {
      const second = await start(prefix, { XMSG_MAX_BLOCK_RANGE: '16' });
      await waitFor('every message settled', async () => (await settledCount(second)) === sent.length, 30_000);
      for (const m of sent) expect(await messagesFor(second.baseUrl, m.msgHash), m.msgHash).toHaveLength(1);

      const metrics = await (await fetch(`${second.baseUrl}/metrics`)).text();
      // 16 and 8 blocks hold more than 4 messages: refused once each, then 4 blocks at a time (not 8 every other read).
      expect(metricValue(metrics, `xmsg_log_range_blocks{chain_id="${B}"}`)).toBe(4);
      expect(metricValue(metrics, `xmsg_chain_healthy{chain_id="${B}"}`)).toBe(1);
      expect(b.proxy.counts().eth_getLogs).toBeLessThanOrEqual(2 + Math.ceil(behind / 4) + 2);
    } finally {
      b.proxy.setFaults({});
    }
  });

  it('keeps its log range while eth_getLogs fails for a reason a smaller range cannot help (503s)', async () => {
    const prefix = world.newPrefix('logs-503');
    const x = await start(prefix, { XMSG_MAX_BLOCK_RANGE: '16', XMSG_RPC_RETRIES: '1', XMSG_RPC_RETRY_DELAY_MS: '20' });
    const b = world.devnet.chain(B);
    const range = async () => metricValue(await (await fetch(`${x.baseUrl}/metrics`)).text(), `xmsg_log_range_blocks{chain_id="${B}"}`);
    b.proxy.resetCounts();
    b.proxy.setFaults({ failMethods: ['eth_getLogs'] });
    let sent: Sent[] = [];
    try {
      sent = await sendMessages(world.devnet.chain(A), b, 6);
      await waitFor('eth_getLogs refused a few times', () => (b.proxy.counts().eth_getLogs ?? 0) >= 8, 10_000);
      expect(await range()).toBe(16);
    } finally {
      b.proxy.setFaults({});
    }
    await waitFor('every message settled', async () => (await settledCount(x)) === sent.length, 30_000);
  });
});
