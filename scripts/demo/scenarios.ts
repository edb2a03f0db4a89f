/**
 * The messages and faults the demo makes. Each scenario has a send phase, run by the traffic loop while it has
 * the chains to itself, and a follow phase, run in the background, that waits for the events xmsg should deliver.
 */
import { type Hash, keccak256, toHex } from 'viem';
import type { Identifier } from '../../src/chain/inbox.js';
import {
  type DevChain,
  type ExecutedMessage,
  type ExecuteOptions,
  emitInitiating,
  executeMessage,
  headNumber,
  type InitiatingLog,
} from '../../src/devnet/devnet.js';
import type { EventType } from '../../src/events/types.js';
import { exactSnapshot, replaceAfterSnapshot, untilClockReaches } from './chain-ops.js';
import type { EventWatch, SentLabel } from './events.js';
import type { SafetyLabels } from './labels.js';
import type { Printer } from './print.js';

export const KINDS = {
  valid: { title: 'valid', expects: [] },
  unpromoted: { title: 'valid, held below safe', expects: ['unpromoted', 'promoted'] },
  replaced: { title: 'forged, to be replaced', expects: ['invalid_message', 'replaced'] },
  violation: { title: 'forged, let become safe', expects: ['invalid_message', 'cross_safety_violation'] },
  expired: { title: '8 days old, to be replaced', expects: ['invalid_message', 'replaced'] },
  undeclared: { title: 'forged without access list, to be replaced', expects: ['access_list_mismatch', 'replaced'] },
} as const satisfies Record<string, { title: string; expects: readonly EventType[] }>;
export type Kind = keyof typeof KINDS;

export interface Outcome {
  scenario: string;
  n: number;
  result: 'ok' | 'failed' | 'interrupted';
  detail: string;
}

export interface ScenarioContext {
  labels: SafetyLabels;
  events: EventWatch;
  printer: Printer;
  signal: AbortSignal;
  promotionDeadlineS: number;
  /** Remembers a message about to be sent, so that its events can be recognised even if they come first. */
  register(kind: Kind, msgHash: Hash): SentLabel;
  /** Makes op-interop-filter's stand-in refuse a message the demo forges, as the real filter would (it cannot find it). */
  rejectAtFilter(id: Identifier, msgHash: Hash): void;
  /** Prints the "sent" line of a message once its executing transaction is mined. */
  sent(label: SentLabel, from: DevChain, to: DevChain, exec: ExecutedMessage): void;
}

/** What the background part of a scenario settles to. */
export type Follow = () => Promise<Outcome>;

// How long xmsg may take to notice each thing: a few follower polls and check jobs, with room for a slow machine.
const EVENT_TIMEOUT_MS = 30_000;

const forge = (msgHash: Hash): Hash => keccak256(toHex(`forged ${msgHash}`));

export async function sendValid(ctx: ScenarioContext, from: DevChain, to: DevChain): Promise<void> {
  const init = await emitInitiating(from);
  const label = ctx.register('valid', init.msgHash);
  await untilClockReaches(to, init.identifier.timestamp);
  ctx.sent(label, from, to, await executeMessage(to, init.identifier, init.msgHash));
}

/**
 * A valid message whose executing chain's safe head is held below its block past the promotion deadline:
 * xmsg reports it unpromoted; once released, it reports the promotion.
 */
export async function sendUnpromoted(ctx: ScenarioContext, from: DevChain, to: DevChain): Promise<Follow> {
  const init = await emitInitiating(from);
  const label = ctx.register('unpromoted', init.msgHash);
  const holdBy = `unpromoted-${label.n}`;
  await untilClockReaches(to, init.identifier.timestamp);
  // Held at the head before the executing transaction, so the safe head can never reach the block it lands in.
  ctx.labels.hold(to.chainId, holdBy, await headNumber(to));
  const exec = await executeMessage(to, init.identifier, init.msgHash);
  ctx.sent(label, from, to, exec);
  ctx.printer.note(
    `holding chain ${to.chainId}'s safe head below block ${exec.blockNumber} for the ${ctx.promotionDeadlineS} s promotion deadline`,
  );

  return async () => {
    const outcome = (result: Outcome['result'], detail: string): Outcome => ({
      scenario: 'unpromoted → promoted',
      n: label.n,
      result,
      detail,
    });
    try {
      const deadlineMs = ctx.promotionDeadlineS * 1000 + EVENT_TIMEOUT_MS;
      if (!(await ctx.events.waitForMessageEvent('unpromoted', init.msgHash, deadlineMs, ctx.signal))) {
        return ctx.signal.aborted ? outcome('interrupted', 'stopped before the deadline') : outcome('failed', 'no unpromoted event');
      }
    } finally {
      ctx.labels.release(to.chainId, holdBy);
    }
    ctx.printer.note(`releasing chain ${to.chainId}'s safe head: #${label.n} can become cross-safe now`);
    if (!(await ctx.events.waitForMessageEvent('promoted', init.msgHash, EVENT_TIMEOUT_MS, ctx.signal))) {
      return ctx.signal.aborted ? outcome('interrupted', 'stopped before the promotion') : outcome('failed', 'no promoted event');
    }
    return outcome('ok', 'unpromoted, then promoted');
  };
}

/**
 * An executing message with a forged msgHash, whose block is replaced by an empty one after xmsg reported it, as
 * the protocol replaces a block with an invalid message. Nothing else may be sent meanwhile: the replacement
 * drops every block after the snapshot, so the caller runs the whole send phase alone.
 */
export async function sendReplaced(ctx: ScenarioContext, from: DevChain, to: DevChain): Promise<Follow> {
  const init = await emitInitiating(from);
  return executeThenReplace(ctx, 'replaced', from, to, init, forge(init.msgHash));
}

/**
 * A message whose initiating log is older than the 7-day expiry window (the stale chain's genesis lies 8 days
 * back): expired, so invalid, and its block is replaced like a forged one's.
 */
export async function sendExpired(ctx: ScenarioContext, stale: { chain: DevChain; log: InitiatingLog }, to: DevChain): Promise<Follow> {
  return executeThenReplace(ctx, 'expired', stale.chain, to, stale.log, stale.log.msgHash);
}

/**
 * A valid message whose executing transaction does not declare it in its access list: the real inbox would revert, so
 * it goes through the faulty inbox, as a faulty sequencer's block could carry it. Reported, then replaced.
 */
export async function sendUndeclared(ctx: ScenarioContext, from: DevChain, to: DevChain): Promise<Follow> {
  const init = await emitInitiating(from);
  return executeThenReplace(ctx, 'undeclared', from, to, init, init.msgHash, { forged: true, accessList: [] });
}

const REPLACED_SCENARIOS = {
  replaced: { scenario: 'invalid → replaced', reportedBy: 'invalid_message' },
  expired: { scenario: 'expired → replaced', reportedBy: 'invalid_message' },
  undeclared: { scenario: 'undeclared → replaced', reportedBy: 'access_list_mismatch' },
} as const;

async function executeThenReplace(
  ctx: ScenarioContext,
  kind: keyof typeof REPLACED_SCENARIOS,
  from: DevChain,
  to: DevChain,
  init: InitiatingLog,
  msgHash: Hash,
  options: ExecuteOptions = {},
): Promise<Follow> {
  const label = ctx.register(kind, msgHash);
  const { scenario, reportedBy } = REPLACED_SCENARIOS[kind];
  const outcome = (result: Outcome['result'], detail: string): Outcome => ({ scenario, n: label.n, result, detail });
  const holdBy = `${kind}-${label.n}`;

  // Invalid to xmsg (forged, expired), so to the filter too; the undeclared one is genuine, only its transaction is not.
  if (kind !== 'undeclared') ctx.rejectAtFilter(init.identifier, msgHash);
  const { id, head } = await exactSnapshot(to);
  // The invalid block must never become cross-safe, or this would be the violation scenario.
  ctx.labels.hold(to.chainId, holdBy, head);
  try {
    const exec = await executeMessage(to, init.identifier, msgHash, options);
    ctx.sent(label, from, to, exec);
    const reported = await ctx.events.waitForMessageEvent(reportedBy, msgHash, EVENT_TIMEOUT_MS, ctx.signal);
    if (!reported) {
      if (ctx.signal.aborted) return async () => outcome('interrupted', 'stopped early');
      // Replace it anyway: a forged block left on the chain would turn into a cross-safety violation later.
      await replaceAfterSnapshot(to, id);
      return async () => outcome('failed', `no ${reportedBy} event`);
    }
    const replacement = await replaceAfterSnapshot(to, id);
    ctx.printer.note(`replaced block ${replacement.number} of chain ${to.chainId} (#${label.n}'s) with an empty one`);
  } finally {
    ctx.labels.release(to.chainId, holdBy);
  }

  return async () =>
    (await ctx.events.waitForMessageEvent('replaced', msgHash, EVENT_TIMEOUT_MS, ctx.signal))
      ? outcome('ok', `${reportedBy}, then replaced`)
      : outcome(ctx.signal.aborted ? 'interrupted' : 'failed', 'no replaced event');
}

/** An executing message with a forged msgHash whose block is allowed to become cross-safe: a consensus bug. */
export async function sendViolation(ctx: ScenarioContext, from: DevChain, to: DevChain): Promise<Follow> {
  const init = await emitInitiating(from);
  const msgHash = forge(init.msgHash);
  const label = ctx.register('violation', msgHash);
  ctx.rejectAtFilter(init.identifier, msgHash);
  ctx.sent(label, from, to, await executeMessage(to, init.identifier, msgHash));
  ctx.printer.note(`letting #${label.n}'s block on chain ${to.chainId} become safe as usual`);

  return async () => {
    const outcome = (result: Outcome['result'], detail: string): Outcome => ({
      scenario: 'invalid → cross-safety violation',
      n: label.n,
      result,
      detail,
    });
    for (const type of ['invalid_message', 'cross_safety_violation'] as const) {
      if (!(await ctx.events.waitForMessageEvent(type, msgHash, EVENT_TIMEOUT_MS, ctx.signal))) {
        return outcome(ctx.signal.aborted ? 'interrupted' : 'failed', `no ${type} event`);
      }
    }
    return outcome('ok', 'invalid_message, then cross_safety_violation');
  };
}

// Enough failed follow steps (each retried) for xmsg to call the chain unhealthy, with room for a slow machine.
const OUTAGE_MS = 14_000;

/**
 * The node of a chain goes away (every connection through xmsg's proxy is cut) and comes back: xmsg reports the
 * chain unhealthy, then recovered. The demo's own transactions go to anvil directly and carry on.
 */
export async function takeNodeAway(ctx: Pick<ScenarioContext, 'printer' | 'signal' | 'events'>, chain: DevChain): Promise<Follow> {
  const since = Date.now();
  chain.proxy.setFaults({ down: true });
  ctx.printer.note(`chain ${chain.chainId}'s node goes away for ${OUTAGE_MS / 1000} s`);
  return async () => {
    const outcome = (result: Outcome['result'], detail: string): Outcome => ({ scenario: 'node down → back', n: 0, result, detail });
    const unhealthy = await ctx.events.waitForChainEvent('chain_unhealthy', chain.chainId, since, OUTAGE_MS + EVENT_TIMEOUT_MS, ctx.signal);
    await sleepUnless(ctx.signal, OUTAGE_MS - (Date.now() - since));
    chain.proxy.setFaults({});
    if (ctx.signal.aborted) return outcome('interrupted', 'stopped during the outage');
    ctx.printer.note(`chain ${chain.chainId}'s node is back`);
    if (!unhealthy) return outcome('failed', 'no chain_unhealthy event');
    const recovered = await ctx.events.waitForChainEvent('chain_recovered', chain.chainId, since, EVENT_TIMEOUT_MS, ctx.signal);
    if (!recovered) return outcome(ctx.signal.aborted ? 'interrupted' : 'failed', 'no chain_recovered event');
    return outcome('ok', 'chain_unhealthy, then chain_recovered');
  };
}

function sleepUnless(signal: AbortSignal, ms: number): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
