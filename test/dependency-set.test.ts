import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keccak256, toHex } from 'viem';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../src/alerts/model.js';
import { emitInitiating, executeMessage, latestBlock, setSafe } from '../src/devnet/devnet.js';
import type { MessageEvent } from '../src/events/types.js';
import { useWorld } from './helpers/world.js';
import { messagesFor, type RunningXmsg, scrape, waitFor, waitForMessage } from './helpers/xmsg.js';

// The dependency set as op-node, op-supernode and kona read it, on a real devnet: A and B are active since genesis,
// C activates interop a day from now, and UNWATCHED is in the set with no chain (no RPC) at all. The rules themselves
// are unit tests (src/chain/validity.test.ts, src/chain/validate.test.ts, src/config.test.ts).
const A = 931;
const B = 932;
const C = 933;
const UNWATCHED = 939;

// Nothing is cross-safe until a test says so.
const world = useWorld({ name: 'depset', chainIds: [A, B, C], holdLabels: 'once' });
let xmsg: RunningXmsg;
let cActivation: bigint;
let env: Record<string, string>;

beforeAll(async () => {
  cActivation = (await latestBlock(world.devnet.chain(C))).timestamp + 86_400n;
  const path = join(await mkdtemp(join(tmpdir(), 'xmsg-depset-')), 'dependency-set.json');
  await writeFile(
    path,
    JSON.stringify({
      dependencies: {
        [A]: { chainIndex: 0, activationTime: 0, historyMinTime: 0 },
        [B]: { chainIndex: 1 },
        [C]: { chainIndex: 2, activationTime: Number(cActivation) },
        [UNWATCHED]: {},
      },
      overrideMessageExpiryWindow: null,
    }),
  );
  env = { XMSG_DEPENDENCY_SET: path, XMSG_CONSOLE: '1' };
  xmsg = await world.startXmsg(env);
});

const chain = (id: number) => world.devnet.chain(id);
const eventsFor = (msgHash: string) =>
  xmsg.events.filter((e): e is MessageEvent => 'message' in e && e.message.msgHash === msgHash).map((e) => e.type);

async function alerts(): Promise<Alert[]> {
  return ((await (await fetch(`${xmsg.baseUrl}/api/alerts?state=all`)).json()) as { alerts: Alert[] }).alerts;
}

describe('interop activation from the dependency set', () => {
  it('refuses a message executed on a chain before its interop activation', async () => {
    const init = await emitInitiating(chain(A));
    await executeMessage(chain(C), init.identifier, init.msgHash);
    const m = await waitForMessage(xmsg.baseUrl, init.msgHash, { status: 'invalid' });
    expect(m.reason).toMatch(new RegExp(`^executing block time \\d+ is before chain ${C}'s interop activation at ${cActivation}$`));
  });

  it('refuses a message initiated on a chain before its interop activation', async () => {
    const init = await emitInitiating(chain(C));
    await executeMessage(chain(A), init.identifier, init.msgHash);
    const m = await waitForMessage(xmsg.baseUrl, init.msgHash, { status: 'invalid' });
    expect(m.reason).toBe(`initiating block time ${init.timestamp} is before chain ${C}'s interop activation at ${cActivation}`);
  });

  it('accepts a message between two chains active since genesis', async () => {
    const init = await emitInitiating(chain(A));
    await executeMessage(chain(B), init.identifier, init.msgHash);
    await waitForMessage(xmsg.baseUrl, init.msgHash, { status: 'valid' });
  });
});

describe('a dependency-set chain xmsg has no RPC for', () => {
  it('marks its messages unverified, lets their blocks become cross-safe without a violation, and warns once per chain', async () => {
    const head = await latestBlock(chain(B));
    const identifier = { origin: chain(A).emitter, blockNumber: 7n, logIndex: 0n, timestamp: head.timestamp, chainId: BigInt(UNWATCHED) };
    const msgHash = keccak256(toHex(`from the unwatched chain ${Math.random()}`));
    const exec = await executeMessage(chain(B), identifier, msgHash);
    const m = await waitForMessage(xmsg.baseUrl, msgHash, { status: 'unverified' });
    expect(m.reason).toBe(`no RPC for chain ${UNWATCHED}`);
    expect(await scrape(xmsg.baseUrl)).toMatch(
      new RegExp(`xmsg_message_status\\{[^}]*initiating_chain_id="${UNWATCHED}"[^}]*status="unverified"\\} 1`),
    );

    await setSafe(chain(B), exec.blockNumber);
    await waitForMessage(xmsg.baseUrl, msgHash, { safety: 'cross-safe' });
    await new Promise((r) => setTimeout(r, 300));
    expect(eventsFor(msgHash)).toEqual([]);

    // A restart (or a second replica) announces the same chain again: the event collapses into the first, one alert.
    await world.stopXmsg(xmsg);
    xmsg = await world.startXmsg(env);
    const unwatched = await waitFor('the unwatched_chain alert', async () => {
      const found = (await alerts()).filter((a) => a.kind === 'unwatched_chain');
      return found.length ? found : undefined;
    });
    expect(unwatched).toEqual([
      expect.objectContaining({ kind: 'unwatched_chain', severity: 'warning', chainId: UNWATCHED, count: 1, state: 'open' }),
    ]);
    expect(unwatched[0]!.detail).toContain(`chain ${UNWATCHED} is in the dependency set but has no RPC in XMSG_L2_RPCS`);
    // The followed chains are watched: no alert says otherwise.
    expect((await alerts()).filter((a) => a.kind === 'unwatched_chain' && a.chainId !== UNWATCHED)).toEqual([]);
  });
});

describe('an unverified message held below the safe head', () => {
  it('is reported unpromoted after the promotion deadline, as a valid one is, then promoted', async () => {
    await world.stopXmsg(xmsg);
    xmsg = await world.startXmsg({ ...env, XMSG_PROMOTION_DEADLINE_S: '2' });
    try {
      const head = await latestBlock(chain(B));
      const identifier = { origin: chain(A).emitter, blockNumber: 9n, logIndex: 0n, timestamp: head.timestamp, chainId: BigInt(UNWATCHED) };
      const msgHash = keccak256(toHex(`unverified, held back ${Math.random()}`));
      const exec = await executeMessage(chain(B), identifier, msgHash);
      await waitForMessage(xmsg.baseUrl, msgHash, { status: 'unverified' });
      await waitFor('the unpromoted event', () => eventsFor(msgHash).includes('unpromoted'), 15_000);
      expect((await messagesFor(xmsg.baseUrl, msgHash))?.[0]?.safety).toBe('unsafe');

      await setSafe(chain(B), exec.blockNumber);
      await waitFor('the promoted event', () => eventsFor(msgHash).includes('promoted'));
      expect(eventsFor(msgHash)).toEqual(['unpromoted', 'promoted']);
    } finally {
      await world.stopXmsg(xmsg);
      xmsg = await world.startXmsg(env);
    }
  });
});

describe('from a message to its alerts', () => {
  it('names, in GET /api/messages/:msgHash and /xmsg status, the alerts a violating message raised and the events it caused', async () => {
    // On B, whose earlier blocks hold only a valid message and an unverified one: this is the only violation there.
    const init = await emitInitiating(chain(A));
    const forged = keccak256(toHex(`forged ${init.msgHash}`));
    const exec = await executeMessage(chain(B), init.identifier, forged);
    await waitForMessage(xmsg.baseUrl, forged, { status: 'invalid' });
    await setSafe(chain(B), exec.blockNumber);
    await waitFor('the violation event', () => eventsFor(forged).includes('cross_safety_violation'));

    type Linked = { id: string; status: string; alerts: Array<{ id: string; kind: string }>; events: string[] };
    const linked = await waitFor('the message to name both alerts', async () => {
      const body = (await (await fetch(`${xmsg.baseUrl}/api/messages/${forged}`)).json()) as { messages: Linked[] };
      const m = body.messages[0];
      return m && m.alerts.length === 2 ? m : undefined;
    });
    const byKind = Object.fromEntries((await alerts()).map((a) => [`${a.kind}-${a.chainId}`, a.id]));
    expect(linked.alerts).toEqual([
      { id: byKind[`invalid_message-${B}`], kind: 'invalid_message' },
      { id: byKind[`cross_safety_violation-${B}`], kind: 'cross_safety_violation' },
    ]);
    expect(linked.events).toEqual(['invalid_message', 'cross_safety_violation']);
    // Every field served before stays.
    expect(Object.keys(linked)).toEqual(
      expect.arrayContaining(['id', 'status', 'reason', 'safety', 'executing', 'msgHash', 'identifier', 'seenAt', 'history']),
    );

    const reply = (await (
      await fetch(`${xmsg.baseUrl}/console/command`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'operator', text: `/xmsg status ${forged}` }),
      })
    ).json()) as { ok: boolean; text: string };
    expect(reply.ok).toBe(true);
    expect(reply.text).toContain(
      `; alerts ${linked.alerts[0]!.id} (invalid_message), ${linked.alerts[1]!.id} (cross_safety_violation); events invalid_message, cross_safety_violation`,
    );
  });
});
