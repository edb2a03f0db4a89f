/**
 * The messages the demo sends. Each scenario has a send phase, run by the traffic loop while it has the chains to
 * itself, and a follow phase, run in the background, that waits for the events xmsg should deliver.
 *
 * (An expired message is not among them: both chains share the wall clock, so an identifier 7 days old would
 * need a source block 7 days back.)
 */
import { keccak256, toHex, type Hash } from 'viem';
import { emitInitiating, executeMessage, type DevChain, type ExecutedMessage } from '../../src/devnet/devnet.js';
import type { EventType } from '../../src/events/types.js';
import type { EventWatch, SentLabel } from './events.js';
import { exactSnapshot, headOf, replaceAfterSnapshot } from './chain-ops.js';
import type { SafetyLabels } from './labels.js';
import type { Printer } from './print.js';

export const KINDS = {
  valid: { title: 'valid', expects: [] },
  unpromoted: { title: 'valid, held below safe', expects: ['unpromoted', 'promoted'] },
  replaced: { title: 'forged, to be replaced', expects: ['invalid_message', 'replaced'] },
  violation: { title: 'forged, let become safe', expects: ['invalid_message', 'cross_safety_violation'] },
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
  // Held at the head before the executing transaction, so the safe head can never reach the block it lands in.
  ctx.labels.hold(to.chainId, holdBy, await headOf(to));
  const exec = await executeMessage(to, init.identifier, init.msgHash);
  ctx.sent(label, from, to, exec);
  ctx.printer.note(`holding chain ${to.chainId}'s safe head below block ${exec.blockNumber} for the ${ctx.promotionDeadlineS} s promotion deadline`);

  return async () => {
    const outcome = (result: Outcome['result'], detail: string): Outcome => ({ scenario: 'unpromoted → promoted', n: label.n, result, detail });
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
  const msgHash = forge(init.msgHash);
  const label = ctx.register('replaced', msgHash);
  const outcome = (result: Outcome['result'], detail: string): Outcome => ({ scenario: 'invalid → replaced', n: label.n, result, detail });
  const holdBy = `replaced-${label.n}`;

  const { id, head } = await exactSnapshot(to);
  // The invalid block must never become cross-safe, or this would be the violation scenario.
  ctx.labels.hold(to.chainId, holdBy, head);
  try {
    const exec = await executeMessage(to, init.identifier, msgHash);
    ctx.sent(label, from, to, exec);
    const reported = await ctx.events.waitForMessageEvent('invalid_message', msgHash, EVENT_TIMEOUT_MS, ctx.signal);
    if (!reported) {
      if (ctx.signal.aborted) return async () => outcome('interrupted', 'stopped early');
      // Replace it anyway: a forged block left on the chain would turn into a cross-safety violation later.
      await replaceAfterSnapshot(to, id);
      return async () => outcome('failed', 'no invalid_message event');
    }
    const replacement = await replaceAfterSnapshot(to, id);
    ctx.printer.note(`replaced block ${replacement.number} of chain ${to.chainId} (#${label.n}'s) with an empty one`);
  } finally {
    ctx.labels.release(to.chainId, holdBy);
  }

  return async () =>
    (await ctx.events.waitForMessageEvent('replaced', msgHash, EVENT_TIMEOUT_MS, ctx.signal))
      ? outcome('ok', 'invalid_message, then replaced')
      : outcome(ctx.signal.aborted ? 'interrupted' : 'failed', 'no replaced event');
}

/** An executing message with a forged msgHash whose block is allowed to become cross-safe: a consensus bug. */
export async function sendViolation(ctx: ScenarioContext, from: DevChain, to: DevChain): Promise<Follow> {
  const init = await emitInitiating(from);
  const msgHash = forge(init.msgHash);
  const label = ctx.register('violation', msgHash);
  ctx.sent(label, from, to, await executeMessage(to, init.identifier, msgHash));
  ctx.printer.note(`letting #${label.n}'s block on chain ${to.chainId} become safe as usual`);

  return async () => {
    const outcome = (result: Outcome['result'], detail: string): Outcome => ({ scenario: 'invalid → cross-safety violation', n: label.n, result, detail });
    for (const type of ['invalid_message', 'cross_safety_violation'] as const) {
      if (!(await ctx.events.waitForMessageEvent(type, msgHash, EVENT_TIMEOUT_MS, ctx.signal))) {
        return outcome(ctx.signal.aborted ? 'interrupted' : 'failed', `no ${type} event`);
      }
    }
    return outcome('ok', 'invalid_message, then cross_safety_violation');
  };
}
