import type { EventType } from '../../src/events/types.js';
import type { MessageStore } from '../../src/store/messages.js';
import type { EventWatch } from './events.js';
import type { SafetyLabels } from './labels.js';
import { bold, type Printer, paint } from './print.js';
import type { Traffic } from './traffic.js';

/** The events the trouble scenarios provoke; a run that saw none of them demonstrated nothing. */
export const EXPECTED_EVENTS: readonly EventType[] = [
  'invalid_message',
  'access_list_mismatch',
  'replaced',
  'cross_safety_violation',
  'unpromoted',
  'promoted',
  'chain_unhealthy',
  'chain_recovered',
];

export interface SummarySources {
  traffic: Traffic;
  events: EventWatch;
  labels: SafetyLabels;
  store: MessageStore;
}

const list = (entries: Iterable<[string, number]>) => [...entries].map(([k, v]) => `${k} ${v}`).join(', ') || 'none';

/** Tracked messages by validity status, as xmsg's store counts them (the figures behind xmsg_message_status). */
async function trackedByStatus(store: MessageStore): Promise<Map<string, number>> {
  const byStatus = new Map<string, number>();
  for (const c of await store.statusCounts()) if (c.count > 0) byStatus.set(c.status, (byStatus.get(c.status) ?? 0) + c.count);
  return byStatus;
}

function headsText(labels: SafetyLabels): string {
  return [...labels.snapshot()].map(([chainId, h]) => `${chainId} ${h.latest}/${h.safe}/${h.finalized}`).join('  ');
}

async function parts({ traffic, events, labels, store }: SummarySources) {
  const sent = [...traffic.sentByKind.values()].reduce((a, b) => a + b, 0);
  return {
    sent: `sent ${sent} (${list(traffic.sentByKind)})`,
    events: `events: ${list(events.counts)}`,
    tracked: `tracked: ${list(await trackedByStatus(store))}`,
    heads: `latest/safe/finalized: ${headsText(labels)}`,
  };
}

/** The every-10-seconds line. */
export async function printSummaryLine(printer: Printer, sources: SummarySources): Promise<void> {
  const p = await parts(sources);
  printer.line(paint('cyan', `Σ ${p.sent} · ${p.events} · ${p.tracked} · ${p.heads}`));
}

/**
 * The closing summary (with a verdict line when asked); returns whether the run demonstrated what it should: at least one expected event, every
 * finished scenario saw its events, and xmsg reported nothing about a message that the demo did not provoke.
 */
export async function printFinalSummary(printer: Printer, sources: SummarySources, withVerdict: boolean): Promise<boolean> {
  const p = await parts(sources);
  const { traffic, events } = sources;
  const seen = EXPECTED_EVENTS.filter((t) => events.counts.has(t));
  const failed = traffic.outcomes.filter((o) => o.result === 'failed');
  const ok = seen.length > 0 && failed.length === 0 && events.surprises.length === 0;

  printer.raw();
  printer.raw(bold(`── final summary after ${printer.elapsedS()} s ──`));
  printer.raw(`  ${p.sent}`);
  printer.raw(`  ${p.events}`);
  printer.raw(`  ${p.tracked}`);
  printer.raw(`  ${p.heads}`);
  for (const o of traffic.outcomes) {
    const mark = { ok: paint('green', '✓'), failed: paint('red', '✗'), interrupted: paint('grey', '·') }[o.result];
    printer.raw(`  ${mark} ${o.scenario} (#${o.n}): ${o.result === 'interrupted' ? 'still running at the end' : o.detail}`);
  }
  const missing = EXPECTED_EVENTS.filter((t) => !events.counts.has(t));
  if (missing.length) printer.raw(paint('grey', `  not seen: ${missing.join(', ')}`));
  if (events.surprises.length)
    printer.raw(paint('red', `  ${events.surprises.length} event(s) the demo did not provoke (see the lines marked above)`));
  // After Ctrl-C the person decided when to stop; only a timed (smoke-test) run is judged.
  if (withVerdict)
    printer.raw(
      ok ? paint('green', '  result: OK') : paint('red', `  result: FAILED${seen.length ? '' : ' (no event of the expected kinds)'}`),
    );
  return ok;
}
