import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeAbiParameters, type Hex, keccak256, numberToHex, toEventSelector, toHex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DevChain,
  type Devnet,
  type ExecuteOptions,
  emitInitiating,
  executeMessage,
  type InitiatingLog,
  latestBlock,
  mine,
  setNextBlockTimestamp,
  startDevnet,
} from '../src/devnet/devnet.js';
import { cleanRedis, eventsOfType, messagesFor, type RunningXmsg, startXmsg, uniquePrefix, waitForMessage } from './helpers/xmsg.js';

// 901 and 902 form the dependency set; 903 is followed but not in it; 904 executes the expired message
// (its clock jumps 8 days ahead, which would expire every later message on a shared chain).
const A = 901;
const B = 902;
const OUTSIDER = 903;
const TIME_TRAVELLER = 904;

let devnet: Devnet;
let xmsg: RunningXmsg;
const prefix = uniquePrefix('validity');

beforeAll(async () => {
  devnet = await startDevnet({ chainIds: [A, B, OUTSIDER, TIME_TRAVELLER] });
  const dir = await mkdtemp(join(tmpdir(), 'xmsg-'));
  const depSet = join(dir, 'dependency-set.json');
  await writeFile(depSet, JSON.stringify({ chainIds: [A, B, TIME_TRAVELLER] }));
  xmsg = await startXmsg(devnet, prefix, { XMSG_DEPENDENCY_SET: depSet });
});

afterAll(async () => {
  await xmsg?.stop();
  await devnet?.stop();
  await cleanRedis(prefix);
});

const chain = (id: number): DevChain => devnet.chain(id);

async function execute(
  on: number,
  init: InitiatingLog,
  tweak: Partial<InitiatingLog['identifier']> = {},
  msgHash: Hex = init.msgHash,
  options?: ExecuteOptions,
) {
  return executeMessage(chain(on), { ...init.identifier, ...tweak }, msgHash, options);
}

function invalidEventFor(msgHash: Hex) {
  return eventsOfType(xmsg.events, 'invalid_message').filter((e) => 'message' in e && e.message.msgHash === msgHash);
}

describe('validity rules against real chains', () => {
  it('accepts a message whose initiating log matches', async () => {
    const init = await emitInitiating(chain(A), { data: toHex('hello') });
    const exec = await execute(B, init);
    const m = await waitForMessage(xmsg.baseUrl, init.msgHash, { status: 'valid' });
    expect(m.executing).toMatchObject({ chainId: B, blockNumber: String(exec.blockNumber), txHash: exec.txHash });
    expect(m.safety).toBe('unsafe');
    expect(invalidEventFor(init.msgHash)).toHaveLength(0);
  });

  it('rejects a msgHash that is not the initiating payload hash', async () => {
    const init = await emitInitiating(chain(A));
    const forged = keccak256(toHex('forged payload'));
    await execute(B, init, {}, forged);
    const m = await waitForMessage(xmsg.baseUrl, forged, { status: 'invalid' });
    expect(m.reason).toMatch(/does not match the initiating log's payload hash/);
    await expect.poll(() => invalidEventFor(forged).length).toBe(1);
  });

  it('rejects a wrong log index', async () => {
    const init = await emitInitiating(chain(A));
    await execute(B, init, { logIndex: init.logIndex + 5n });
    const m = await waitForMessage(xmsg.baseUrl, init.msgHash, { status: 'invalid' });
    expect(m.reason).toMatch(/no log at index/);
  });

  it('rejects a wrong origin', async () => {
    const init = await emitInitiating(chain(A));
    await execute(B, init, { origin: '0x000000000000000000000000000000000000dEaD' });
    const m = await waitForMessage(xmsg.baseUrl, init.msgHash, { status: 'invalid' });
    expect(m.reason).toMatch(/not by origin/);
  });

  it('flags a timestamp that does not match the source block', async () => {
    const init = await emitInitiating(chain(A));
    await execute(B, init, { timestamp: init.timestamp - 1n });
    const m = await waitForMessage(xmsg.baseUrl, init.msgHash, { status: 'timestamp_mismatch' });
    expect(m.reason).toContain(`timestamp ${init.timestamp}`);
    await expect.poll(() => invalidEventFor(init.msgHash).length).toBe(1);
  });

  it('rejects an identifier timestamp later than the executing block', async () => {
    const init = await emitInitiating(chain(A));
    await execute(B, init, { timestamp: init.timestamp + 100_000n }, init.msgHash, { allowEarlierBlock: true });
    const m = await waitForMessage(xmsg.baseUrl, init.msgHash, { status: 'invalid' });
    expect(m.reason).toMatch(/after the executing block/);
  });

  it('expires a message executed more than 7 days after it was initiated', async () => {
    const init = await emitInitiating(chain(A));
    await setNextBlockTimestamp(chain(TIME_TRAVELLER), init.timestamp + 8n * 86_400n);
    await execute(TIME_TRAVELLER, init);
    const m = await waitForMessage(xmsg.baseUrl, init.msgHash, { status: 'expired' });
    expect(m.reason).toMatch(/expiry window/);
    await expect.poll(() => invalidEventFor(init.msgHash).length).toBe(1);
  });

  it('rejects a source chain outside the dependency set', async () => {
    const init = await emitInitiating(chain(OUTSIDER));
    await execute(B, init);
    const m = await waitForMessage(xmsg.baseUrl, init.msgHash, { status: 'invalid' });
    expect(m.reason).toMatch(new RegExp(`source chain ${OUTSIDER} is not in the dependency set`));
  });

  it('keeps a message from a block the source chain has not produced as future, then validates it', async () => {
    const source = chain(A);
    const head = await latestBlock(source);
    const target = head.number + 3n;
    const targetTimestamp = head.timestamp + 10n;
    const n = 9_000_000n + BigInt(Math.floor(Math.random() * 1_000_000));
    const data = toHex('from the future');
    // The log Emitter.ping(n, data) will emit, predicted: it is the only log of its block.
    const topics = [toEventSelector('Ping(uint256,bytes)'), numberToHex(n, { size: 32 })] as const;
    const encoded = encodeAbiParameters([{ type: 'bytes' }], [data]);
    const msgHash = keccak256(`0x${[...topics, encoded].map((x) => x.slice(2)).join('')}`);
    const identifier = { origin: source.emitter, blockNumber: target, logIndex: 0n, timestamp: targetTimestamp, chainId: BigInt(A) };

    await setNextBlockTimestamp(chain(B), targetTimestamp + 10n);
    await executeMessage(chain(B), identifier, msgHash);
    await waitForMessage(xmsg.baseUrl, msgHash, { status: 'future' });

    await mine(source, 2);
    await setNextBlockTimestamp(source, targetTimestamp);
    const init = await emitInitiating(source, { n, data });
    expect(init).toMatchObject({ blockNumber: target, logIndex: 0n, timestamp: targetTimestamp, msgHash });

    const m = await waitForMessage(xmsg.baseUrl, msgHash, { status: 'valid' });
    expect(m.history.map((h) => h.what.split(':')[0])).toEqual(['status future', 'status valid']);
  });

  it('checks a message once when its job runs again (a replica died after writing the record, before finishing the job)', async () => {
    const init = await emitInitiating(chain(A));
    await execute(B, init);
    const forged = keccak256(toHex(`forged ${Math.random()}`));
    await execute(B, init, {}, forged);
    const before = [
      await waitForMessage(xmsg.baseUrl, init.msgHash, { status: 'valid' }),
      await waitForMessage(xmsg.baseUrl, forged, { status: 'invalid' }),
    ];
    await expect.poll(() => invalidEventFor(forged).length).toBe(1);

    for (const hash of [init.msgHash, forged]) {
      const [record] = await xmsg.app.store.byMsgHash(hash);
      const job = await xmsg.app.checkQueue.add('check', record!.data, { jobId: record!.data.id });
      // Completed check jobs are removed: gone means run.
      await expect.poll(async () => (await xmsg.app.checkQueue.getJob(job.id!)) === undefined, { timeout: 10_000 }).toBe(true);
    }

    const after = [(await messagesFor(xmsg.baseUrl, init.msgHash))!, (await messagesFor(xmsg.baseUrl, forged))!];
    expect(after.map((records) => records.length)).toEqual([1, 1]);
    expect(after.map((records) => records[0]!.history)).toEqual(before.map((m) => m.history));
    expect(invalidEventFor(forged)).toHaveLength(1);
  });
});
