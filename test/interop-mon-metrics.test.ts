import { describe, expect, it } from 'vitest';
import { emitInitiating, executeMessage, mine, replaceBlocksFrom, snapshot } from '../src/devnet/devnet.js';
import { useWorld } from './helpers/world.js';
import { metricValue, scrape, waitFor, waitForMessage } from './helpers/xmsg.js';

const A = 981;
const B = 982;

const world = useWorld({ name: 'interop-mon-metrics', chainIds: [A, B], scope: 'test', holdLabels: 'each', mineBeforeXmsg: true });

describe("op-interop-mon's metrics", () => {
  it('gives the block range of the tracked messages on both sides', async () => {
    const x = await world.startXmsg();
    const init = await emitInitiating(world.devnet.chain(A));
    const exec = await executeMessage(world.devnet.chain(B), init.identifier, init.msgHash);
    await waitForMessage(x.baseUrl, init.msgHash, { status: 'valid' });
    const range = (chain: number, side: string, type: string) =>
      `xmsg_block_range{chain_id="${chain}",side="${side}",range_type="${type}"}`;
    // The cluster gauges are cached for a moment: wait for a scrape that sees the message.
    const m = await waitFor('the block range', async () => {
      const text = await scrape(x.baseUrl);
      return text.includes(range(B, 'executing', 'max')) ? text : undefined;
    });
    expect(metricValue(m, range(B, 'executing', 'min'))).toBe(Number(exec.blockNumber));
    expect(metricValue(m, range(B, 'executing', 'max'))).toBe(Number(exec.blockNumber));
    expect(metricValue(m, range(A, 'initiating', 'min'))).toBe(Number(init.blockNumber));
    expect(metricValue(m, range(A, 'initiating', 'max'))).toBe(Number(init.blockNumber));
    expect(m).not.toContain(range(A, 'executing', 'min'));
  });

  it('counts an initiating reorg and the terminal status change it causes', async () => {
    const x = await world.startXmsg();
    const A_ = world.devnet.chain(A);
    await mine(A_);
    const before = await snapshot(A_);
    const init = await emitInitiating(A_);
    await executeMessage(world.devnet.chain(B), init.identifier, init.msgHash);
    await waitForMessage(x.baseUrl, init.msgHash, { status: 'valid' });
    // The initiating block is replaced by one without the log: the message flips to invalid.
    await replaceBlocksFrom(A_, before);
    await mine(A_, 2);
    await waitForMessage(x.baseUrl, init.msgHash, { status: 'invalid' });

    const labels = `{executing_chain_id="${B}",initiating_chain_id="${A}"}`;
    await waitFor(
      'the flip counted',
      async () => metricValue(await scrape(x.baseUrl), `xmsg_terminal_status_changes_total${labels}`) === 1,
    );
    expect(metricValue(await scrape(x.baseUrl), `xmsg_initiating_reorgs_total${labels}`)).toBeGreaterThanOrEqual(1);
    expect(metricValue(await scrape(x.baseUrl), 'xmsg_cross_safety_violations_total{')).toBe(0);
  });
});
