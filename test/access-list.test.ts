import { type Hex, pad } from 'viem';
import { beforeAll, describe, expect, it } from 'vitest';
import { accessListFor, lookupEntry, messageChecksum } from '../src/chain/access-list.js';
import { type DevChain, type ExecuteOptions, emitInitiating, executeMessage, type InitiatingLog, setSafe } from '../src/devnet/devnet.js';
import type { MessageEvent } from '../src/events/types.js';
import { useWorld } from './helpers/world.js';
import { eventsOfType, messagesFor, type RunningXmsg, waitFor, waitForMessage } from './helpers/xmsg.js';

// What xmsg makes of executing logs whose transaction's access list does not declare them. The parser and the
// verdicts are unit tests in src/chain/access-list.test.ts; here: the follower's block reads, the checker's use of
// the verdict (and its own read on a re-check), the alert in Slack, and the cross-safety violation.
const A = 961;
const B = 962;
const TOKEN = 'xoxb-test-token';
const CHANNEL = 'C0ALERTS';

const world = useWorld({ name: 'access-list', chainIds: [A, B], slack: { token: TOKEN }, holdLabels: 'once' });
let xmsg: RunningXmsg;

beforeAll(async () => {
  xmsg = await world.startXmsg({
    SLACK_BOT_TOKEN: TOKEN,
    SLACK_SIGNING_SECRET: 'test-signing-secret',
    SLACK_CHANNEL_ID: CHANNEL,
    SLACK_API_URL: world.slack.apiUrl,
    XMSG_CHAT_MAX_PER_S: '50',
  });
});

const chain = (id: number): DevChain => world.devnet.chain(id);
const eventsFor = (msgHash: Hex) =>
  xmsg.events.filter((e): e is MessageEvent => 'message' in e && e.message.msgHash === msgHash).map((e) => e.type);

async function execute(options: ExecuteOptions, data?: Hex): Promise<{ init: InitiatingLog; blockNumber: bigint }> {
  const init = await emitInitiating(chain(A), data ? { data } : {});
  const exec = await executeMessage(chain(B), init.identifier, init.msgHash, options);
  return { init, blockNumber: exec.blockNumber };
}

describe('access lists of executing transactions', () => {
  it('alerts in Slack on a log forged without its access-list entries', async () => {
    chain(B).proxy.resetCounts();
    const { init } = await execute({ forged: true, accessList: [] });
    const m = await waitForMessage(xmsg.baseUrl, init.msgHash, { status: 'access_list_mismatch' });
    expect(m.reason).toBe('access list missing: the transaction declares nothing under the inbox');
    // The follower read the block with its transactions; the checker did not read the transaction again.
    expect(chain(B).proxy.counts().eth_getBlockByHash).toBeGreaterThanOrEqual(1);
    expect(chain(B).proxy.counts().eth_getTransactionByHash).toBeUndefined();
    await waitFor('the access_list_mismatch event', () => eventsFor(init.msgHash).includes('access_list_mismatch'));
    expect(eventsFor(init.msgHash)).not.toContain('invalid_message');

    const root = await waitFor('the root in Slack', () =>
      world.slack.channelMessages(CHANNEL).find((r) => JSON.stringify(r.blocks).includes(init.msgHash)),
    );
    expect(root.text).toContain(`Executing message not declared in its access list on chain ${B}`);
    expect(JSON.stringify(root.blocks)).toContain('access_list_mismatch');
    const alerts = (await (await fetch(`${xmsg.baseUrl}/api/alerts?state=all`)).json()) as {
      alerts: Array<{ kind: string; severity: string }>;
    };
    expect(alerts.alerts.filter((a) => a.kind === 'access_list_mismatch').map((a) => a.severity)).toEqual(['critical']);
  });

  it("calls a log mismatched when the entries declared for its identifier are another message's", async () => {
    const other = await emitInitiating(chain(A));
    const init = await emitInitiating(chain(A));
    // The identifier's own lookup entry, then a checksum over another msgHash.
    const accessList = [
      { address: chain(B).inbox, storageKeys: [lookupEntry(init.identifier), messageChecksum(init.identifier, other.msgHash)] },
    ];
    await executeMessage(chain(B), init.identifier, init.msgHash, { forged: true, accessList });
    const m = await waitForMessage(xmsg.baseUrl, init.msgHash, { status: 'access_list_mismatch' });
    expect(m.reason).toMatch(/^access list mismatched: the checksum declared for this identifier, 0x03\w+, is not the message's 0x03\w+/);
  });

  it('calls a log mismatched when the transaction declares only its checksum, which the real inbox accepts', async () => {
    const init = await emitInitiating(chain(A));
    const accessList = [{ address: chain(B).inbox, storageKeys: [messageChecksum(init.identifier, init.msgHash)] }];
    await executeMessage(chain(B), init.identifier, init.msgHash, { accessList });
    const m = await waitForMessage(xmsg.baseUrl, init.msgHash, { status: 'access_list_mismatch' });
    expect(m.reason).toMatch(
      /^access list mismatched: malformed inbox entries: inbox storage key 1 of 1 has type 3: expected a lookup entry/,
    );
  });

  it('finds a forged log valid when its transaction declares it correctly, among other entries', async () => {
    const other = await emitInitiating(chain(A));
    const init = await emitInitiating(chain(A));
    const accessList = [{ address: chain(A).emitter, storageKeys: [pad('0x01')] }, ...accessListFor(chain(B).inbox, [other, init])];
    await executeMessage(chain(B), init.identifier, init.msgHash, { forged: true, accessList });
    const m = await waitForMessage(xmsg.baseUrl, init.msgHash, { status: 'valid' });
    expect(m.reason).toBe('initiating log found and matches');
  });

  it('keeps a message that is invalid by the rules invalid, whatever its access list', async () => {
    const init = await emitInitiating(chain(A));
    const forgedHash = pad('0xbad', { size: 32 });
    await executeMessage(chain(B), init.identifier, forgedHash, { forged: true, accessList: [] });
    const m = await waitForMessage(xmsg.baseUrl, forgedHash, { status: 'invalid' });
    expect(m.reason).toMatch(/does not match the initiating log's payload hash/);
  });

  it('keeps the verdict on a re-check, which reads the transaction again', async () => {
    const { init } = await execute({ forged: true, accessList: [] });
    const before = await waitForMessage(xmsg.baseUrl, init.msgHash, { status: 'access_list_mismatch' });
    const [record] = await xmsg.app.store.byMsgHash(init.msgHash);
    // A re-check as the safety step queues one after a source reorg: the stored record, without the follower's verdict.
    const job = await xmsg.app.checkQueue.add('recheck', { ...record!.data, recheck: true }, { jobId: `recheck-${record!.data.id}-test` });
    await expect.poll(async () => (await xmsg.app.checkQueue.getJob(job.id!)) === undefined, { timeout: 10_000 }).toBe(true);
    const [after] = (await messagesFor(xmsg.baseUrl, init.msgHash))!;
    expect(after).toMatchObject({ status: 'access_list_mismatch', reason: before.reason });
    expect(after!.history).toEqual(before.history);
  });

  it('reports a cross-safety violation when an undeclared message becomes cross-safe', async () => {
    const { init, blockNumber } = await execute({ forged: true, accessList: [] });
    await waitForMessage(xmsg.baseUrl, init.msgHash, { status: 'access_list_mismatch' });
    await setSafe(chain(B), blockNumber);
    await waitFor('the cross_safety_violation event', () => eventsFor(init.msgHash).includes('cross_safety_violation'));
    const violation = eventsOfType(xmsg.events, 'cross_safety_violation').find(
      (e): e is MessageEvent => 'message' in e && e.message.msgHash === init.msgHash,
    );
    expect(violation?.message.status).toBe('access_list_mismatch');
  });
});
