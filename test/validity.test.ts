import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeAbiParameters, type Hex, keccak256, numberToHex, toEventSelector, toHex } from 'viem';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type DevChain,
  emitInitiating,
  executeMessage,
  type InitiatingLog,
  latestBlock,
  mine,
  setNextBlockTimestamp,
} from '../src/devnet/devnet.js';
import { sliceJobId } from '../src/jobs/checker.js';
import { sliceBlockOf, sliceMessage } from '../src/jobs/slice.js';
import { useWorld } from './helpers/world.js';
import { type ApiMessage, eventsOfType, messagesFor, type RunningXmsg, waitForMessage } from './helpers/xmsg.js';

// The rules themselves (every status and reason) are unit tests in src/chain/validity.test.ts; here is what needs
// real chains: the source lookup, a source block produced later, the dependency set file, a job run twice.
// 901 and 902 form the dependency set; 903 is followed but not in it.
const A = 901;
const B = 902;
const OUTSIDER = 903;

const world = useWorld({ name: 'validity', chainIds: [A, B, OUTSIDER] });
let xmsg: RunningXmsg;

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'xmsg-'));
  const depSet = join(dir, 'dependency-set.json');
  await writeFile(depSet, JSON.stringify({ chainIds: [A, B] }));
  xmsg = await world.startXmsg({ XMSG_DEPENDENCY_SET: depSet });
});

const chain = (id: number): DevChain => world.devnet.chain(id);

async function execute(on: number, init: InitiatingLog, msgHash: Hex = init.msgHash) {
  return executeMessage(chain(on), init.identifier, msgHash);
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

  /** A valid message and a forged one in B's blocks, checked: their records, and the forged one's one event. */
  async function validAndForged() {
    const init = await emitInitiating(chain(A));
    await execute(B, init);
    const forged = keccak256(toHex(`forged ${Math.random()}`));
    await execute(B, init, forged);
    const before = [
      await waitForMessage(xmsg.baseUrl, init.msgHash, { status: 'valid' }),
      await waitForMessage(xmsg.baseUrl, forged, { status: 'invalid' }),
    ];
    await expect.poll(() => invalidEventFor(forged).length).toBe(1);
    return { init, forged, before };
  }

  /** Still one record each, with the history it had, and still one event for the forged one. */
  async function expectCheckedOnce(valid: Hex, forged: Hex, before: ApiMessage[]): Promise<void> {
    const after = [(await messagesFor(xmsg.baseUrl, valid))!, (await messagesFor(xmsg.baseUrl, forged))!];
    expect(after.map((found) => found.length)).toEqual([1, 1]);
    expect(after.map((found) => found[0]!.history)).toEqual(before.map((m) => m.history));
    expect(invalidEventFor(forged)).toHaveLength(1);
  }

  it('checks a message once when its job runs again (a replica died after writing the record, before finishing the job)', async () => {
    const { init, forged, before } = await validAndForged();

    for (const hash of [init.msgHash, forged]) {
      const [record] = await xmsg.app.store.byMsgHash(hash);
      const job = await xmsg.app.checkQueue.add('check', record!.data, { jobId: record!.data.id });
      // Completed check jobs are removed: gone means run.
      await expect.poll(async () => (await xmsg.app.checkQueue.getJob(job.id!)) === undefined, { timeout: 10_000 }).toBe(true);
    }

    await expectCheckedOnce(init.msgHash, forged, before);
  });

  it('checks a block slice once when its job runs again (queued again after a crash, or its replica killed mid-slice)', async () => {
    const { init, forged, before } = await validAndForged();

    const records = await Promise.all([init.msgHash, forged].map(async (hash) => (await xmsg.app.store.byMsgHash(hash))[0]!));
    for (const record of records) {
      // The watcher's job of the message's block, finished and removed: queued again under the same id, it runs again;
      // packed as the watcher queues it, then as a slice queued before packing (an upgrade with jobs in the queue).
      const jobId = sliceJobId(B, record.data.blockHash, 0);
      const declared = { verdict: 'declared', reason: '' } as const;
      const packed = { block: sliceBlockOf(record.data), messages: [sliceMessage(record.data, declared)] };
      for (const data of [packed, { messages: [record.data] }]) {
        const job = await xmsg.app.checkQueue.add('slice', data, { jobId });
        await expect.poll(async () => (await xmsg.app.checkQueue.getJob(job.id!)) === undefined, { timeout: 10_000 }).toBe(true);
      }
    }

    await expectCheckedOnce(init.msgHash, forged, before);
  });
});
