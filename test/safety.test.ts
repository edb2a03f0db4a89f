import { keccak256, toHex } from 'viem';
import { describe, expect, it } from 'vitest';
import { emitInitiating, executeMessage, mine, replaceBlocksFrom, setFinalized, setSafe, snapshot } from '../src/devnet/devnet.js';
import type { MessageEvent } from '../src/events/types.js';
import { useWorld } from './helpers/world.js';
import { messagesFor, type RunningXmsg, waitFor, waitForMessage } from './helpers/xmsg.js';

const A = 911;
const B = 912;

// Nothing is cross-safe until a test says so.
const world = useWorld({ name: 'safety', chainIds: [A, B], scope: 'test', holdLabels: 'each' });
let xmsg: RunningXmsg | undefined;

const start = async (overrides: Record<string, string> = {}) => (xmsg = await world.startXmsg(overrides));
const eventsFor = (msgHash: string) =>
  xmsg!.events.filter((e): e is MessageEvent => 'message' in e && e.message.msgHash === msgHash).map((e) => e.type);

async function validMessage() {
  const init = await emitInitiating(world.devnet.chain(A));
  const exec = await executeMessage(world.devnet.chain(B), init.identifier, init.msgHash);
  await waitForMessage(xmsg!.baseUrl, init.msgHash, { status: 'valid' });
  return { init, exec };
}

async function invalidMessage() {
  const init = await emitInitiating(world.devnet.chain(A));
  const forged = keccak256(toHex(`forged ${init.msgHash}`));
  const exec = await executeMessage(world.devnet.chain(B), init.identifier, forged);
  await waitForMessage(xmsg!.baseUrl, forged, { status: 'invalid' });
  return { init, exec, msgHash: forged };
}

describe('following executing blocks to cross-safe', () => {
  it('promotes a valid message when the safe head passes its block', async () => {
    await start();
    const { init, exec } = await validMessage();
    expect((await messagesFor(xmsg!.baseUrl, init.msgHash))?.[0]?.safety).toBe('unsafe');

    await setSafe(world.devnet.chain(B), exec.blockNumber);
    const m = await waitForMessage(xmsg!.baseUrl, init.msgHash, { safety: 'cross-safe' });
    expect(m.history.at(-1)?.what).toContain(`safe head ${exec.blockNumber}`);
    expect(eventsFor(init.msgHash)).toEqual([]);
  });

  it('reports a valid message still unsafe after the promotion deadline, then its promotion', async () => {
    await start({ XMSG_PROMOTION_DEADLINE_S: '2' });
    const { init, exec } = await validMessage();
    await waitFor('unpromoted event', () => eventsFor(init.msgHash).includes('unpromoted'));
    expect((await messagesFor(xmsg!.baseUrl, init.msgHash))?.[0]?.safety).toBe('unsafe');

    await setSafe(world.devnet.chain(B), exec.blockNumber);
    await waitFor('promoted event', () => eventsFor(init.msgHash).includes('promoted'));
    expect(eventsFor(init.msgHash)).toEqual(['unpromoted', 'promoted']);
  });

  it("reports the replacement of an invalid message's block, and no violation", async () => {
    await start();
    const B_ = world.devnet.chain(B);
    await mine(B_);
    const before = await snapshot(B_);
    const { exec, msgHash } = await invalidMessage();
    await waitFor('invalid_message event', () => eventsFor(msgHash).includes('invalid_message'));

    const replacement = await replaceBlocksFrom(B_, before);
    expect(replacement.number).toBe(exec.blockNumber);
    await mine(B_);
    await setSafe(B_, replacement.number + 1n);

    const m = await waitForMessage(xmsg!.baseUrl, msgHash, { safety: 'replaced' });
    expect(m.history.at(-1)?.what).toContain(replacement.hash);
    await waitFor('replaced event', () => eventsFor(msgHash).includes('replaced'));
    const replaced = xmsg!.events.find((e): e is MessageEvent => e.type === 'replaced' && 'message' in e && e.message.msgHash === msgHash);
    expect(replaced?.replacementBlockHash).toBe(replacement.hash);
    expect(eventsFor(msgHash)).toEqual(['invalid_message', 'replaced']);
  });

  it("reports a cross-safety violation when an invalid message's block becomes safe", async () => {
    await start();
    const { exec, msgHash } = await invalidMessage();
    await setSafe(world.devnet.chain(B), exec.blockNumber);
    await waitFor('violation event', () => eventsFor(msgHash).includes('cross_safety_violation'));
    const m = await waitForMessage(xmsg!.baseUrl, msgHash, { safety: 'cross-safe' });
    expect(m.status).toBe('invalid');
    expect(eventsFor(msgHash)).toEqual(['invalid_message', 'cross_safety_violation']);
  });

  it('drops a valid message whose executing block is reorged out, reporting nothing, and forgets it after the retention', async () => {
    await start({ XMSG_DROPPED_RETENTION_S: '2' });
    const B_ = world.devnet.chain(B);
    await mine(B_);
    const before = await snapshot(B_);
    const { init, exec } = await validMessage();
    const replacement = await replaceBlocksFrom(B_, before);
    expect(replacement.hash).not.toBe(exec.blockHash);
    await mine(B_, 2);

    const m = await waitForMessage(xmsg!.baseUrl, init.msgHash, { safety: 'reorged' });
    expect(m.history.at(-1)?.what).toMatch(/reorged/);
    await setSafe(B_, replacement.number + 2n);
    await new Promise((r) => setTimeout(r, 500));
    expect(eventsFor(init.msgHash)).toEqual([]);
    expect(await xmsg!.app.store.indexUpTo('pending', B, 1_000_000n)).toEqual([]);

    // Kept a while for /api and /xmsg status, then deleted: Redis does not grow with dropped messages.
    await waitFor('the dropped message forgotten', async () => (await messagesFor(xmsg!.baseUrl, init.msgHash)) === undefined, 10_000);
  });

  it('stops tracking once the executing and initiating blocks are finalized', async () => {
    await start();
    const { init, exec } = await validMessage();
    await setSafe(world.devnet.chain(B), exec.blockNumber);
    await waitForMessage(xmsg!.baseUrl, init.msgHash, { safety: 'cross-safe' });

    await setFinalized(world.devnet.chain(B), exec.blockNumber);
    await new Promise((r) => setTimeout(r, 500));
    // The initiating block is not finalized yet: still tracked.
    expect(await messagesFor(xmsg!.baseUrl, init.msgHash)).toHaveLength(1);

    await setFinalized(world.devnet.chain(A), init.blockNumber);
    await waitFor('message to be dropped', async () => (await messagesFor(xmsg!.baseUrl, init.msgHash)) === undefined);
    const counts = await xmsg!.app.store.statusCounts();
    expect(counts.reduce((n, c) => n + c.count, 0)).toBe(0);
  });

  it('re-checks messages when their source chain reorgs, and reports a validity flip', async () => {
    await start();
    const A_ = world.devnet.chain(A);
    await mine(A_);
    const before = await snapshot(A_);
    const { init } = await validMessage();
    // The initiating block is replaced by one without the log: the message it carried no longer exists.
    const replacement = await replaceBlocksFrom(A_, before);
    expect(replacement.number).toBe(init.blockNumber);
    await mine(A_, 2);

    await waitForMessage(xmsg!.baseUrl, init.msgHash, { status: 'invalid' });
    await waitFor('status_flip event', () => eventsFor(init.msgHash).includes('status_flip'));
    const flip = xmsg!.events.find((e): e is MessageEvent => e.type === 'status_flip');
    expect(flip?.previousStatus).toBe('valid');
    expect(flip?.message.status).toBe('invalid');
  });
});
