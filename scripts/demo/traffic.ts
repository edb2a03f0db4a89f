import type { Hash } from 'viem';
import type { DevChain, Devnet, ExecutedMessage, InitiatingLog } from '../../src/devnet/devnet.js';
import { firstLine } from '../../src/errors.js';
import type { EventWatch, SentLabel } from './events.js';
import type { SafetyLabels } from './labels.js';
import { type Printer, paint, shortHash } from './print.js';
import {
  type Follow,
  KINDS,
  type Kind,
  type Outcome,
  type ScenarioContext,
  sendExpired,
  sendReplaced,
  sendUndeclared,
  sendUnpromoted,
  sendValid,
  sendViolation,
  takeNodeAway,
} from './scenarios.js';

const TICK_MS = 2000;
/**
 * The trouble schedule, in ticks of a cycle (~1 min): the unpromoted hold starts first because it takes longest
 * (the promotion deadline), then the replacement, the violation, the expired message, the stale chain's node going
 * away, and a forged log its transaction does not declare; every other tick sends a valid message. Each cycle swaps the first two chains' roles.
 */
const CYCLE_TICKS = 30;
const TROUBLE_AT = new Map<number, 'unpromoted' | 'replaced' | 'violation' | 'expired' | 'outage' | 'undeclared'>([
  [1, 'unpromoted'],
  [3, 'replaced'],
  [6, 'violation'],
  [8, 'expired'],
  [10, 'outage'],
  [12, 'undeclared'],
]);
// Every this many valid messages, one comes from the third chain.
const FROM_THIRD_EVERY = 4;

export interface TrafficOptions {
  devnet: Devnet;
  labels: SafetyLabels;
  events: EventWatch;
  printer: Printer;
  promotionDeadlineS: number;
  /** Base URL of xmsg's HTTP server, to point the person at /api/messages/<hash>. */
  apiBase: string;
  /** op-interop-filter's stand-in: told which messages the demo forges. */
  rejectAtFilter: ScenarioContext['rejectAtFilter'];
  /** The third chain, whose genesis lies 8 days back, and an initiating log from then (for expired messages). */
  stale: { chain: DevChain; log: InitiatingLog };
}

/**
 * The traffic generator: a valid message every ~2 s in alternating directions, and now and then trouble. One loop
 * sends everything, so a block replacement never drops a message sent alongside it; the waiting for xmsg's
 * verdicts happens in the background.
 */
export class Traffic {
  readonly sentByKind = new Map<Kind, number>();
  readonly outcomes: Outcome[] = [];
  private readonly labelsByHash = new Map<string, SentLabel>();
  private readonly followers = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private loop?: Promise<void>;
  private sentCount = 0;
  private validCount = 0;
  private nodeAway = false;

  constructor(private readonly options: TrafficOptions) {}

  labelOf = (msgHash: string): SentLabel | undefined => this.labelsByHash.get(msgHash.toLowerCase());

  start(): void {
    this.loop = this.run();
  }

  /** Stops sending, then lets the background waits end (they give up at once on abort). */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    await Promise.all(this.followers);
  }

  private get context(): ScenarioContext {
    const { labels, events, printer, promotionDeadlineS } = this.options;
    return {
      labels,
      events,
      printer,
      promotionDeadlineS,
      signal: this.abort.signal,
      register: (kind, msgHash) => this.register(kind, msgHash),
      rejectAtFilter: this.options.rejectAtFilter,
      sent: (label, from, to, exec) => this.printSent(label, from, to, exec),
    };
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    for (let tick = 0; !signal.aborted; tick++) {
      const started = Date.now();
      try {
        await this.step(tick);
      } catch (err) {
        // While stopping, a send may fail with the chain going away; that is not worth a line.
        if (!signal.aborted) {
          this.outcomes.push({ scenario: 'sending', n: this.sentCount, result: 'failed', detail: firstLine(err) });
          this.options.printer.line(paint('red', `✗ sending failed: ${firstLine(err)}`));
        }
      }
      await sleep(TICK_MS - (Date.now() - started), signal);
    }
  }

  private async step(tick: number): Promise<void> {
    const [a, b] = this.options.devnet.chains;
    const { stale } = this.options;
    if (!a || !b) throw new Error('the demo needs two chains');
    const cycle = Math.floor(tick / CYCLE_TICKS);
    // Alternate per cycle which chain has its safe head held and which sees the invalid blocks.
    const [held, troubled] = cycle % 2 === 0 ? [b, a] : [a, b];
    const trouble = TROUBLE_AT.get(tick % CYCLE_TICKS);
    const isHeld = (c: DevChain) => this.options.labels.isHeld(c.chainId);

    if (trouble === 'unpromoted' && !isHeld(held)) return this.follow(await sendUnpromoted(this.context, troubled, held));
    if (trouble === 'replaced' && !isHeld(troubled)) return this.follow(await sendReplaced(this.context, held, troubled));
    if (trouble === 'violation' && !isHeld(troubled)) return this.follow(await sendViolation(this.context, held, troubled));
    if (trouble === 'expired' && !isHeld(troubled)) return this.follow(await sendExpired(this.context, stale, troubled));
    if (trouble === 'undeclared' && !isHeld(troubled)) return this.follow(await sendUndeclared(this.context, held, troubled));
    if (trouble === 'outage' && !this.nodeAway) {
      this.nodeAway = true;
      const follow = await takeNodeAway(this.context, stale.chain);
      return this.follow(() => follow().finally(() => (this.nodeAway = false)));
    }

    // A valid message, never executed on a chain whose safe head is held: it would be reported unpromoted too.
    let [from, to] = this.validCount % 2 === 0 ? [a, b] : [b, a];
    if (isHeld(to)) [from, to] = [to, from];
    // The third chain only sends (its clock trails the others by a block), and not while its node is away.
    if (this.validCount % FROM_THIRD_EVERY === FROM_THIRD_EVERY - 1 && !this.nodeAway) from = stale.chain;
    if (isHeld(to)) return;
    this.validCount++;
    await sendValid(this.context, from, to);
  }

  private follow(follow: Follow): void {
    const done = follow()
      .catch((err: unknown): Outcome => ({ scenario: 'scenario', n: 0, result: 'failed', detail: firstLine(err) }))
      .then((outcome) => {
        this.outcomes.push(outcome);
        const mark = { ok: paint('green', '✓'), failed: paint('red', '✗'), interrupted: paint('grey', '·') }[outcome.result];
        if (outcome.result !== 'interrupted') this.options.printer.line(`${mark} ${outcome.scenario} (#${outcome.n}): ${outcome.detail}`);
      })
      .finally(() => this.followers.delete(done));
    this.followers.add(done);
  }

  private register(kind: Kind, msgHash: Hash): SentLabel {
    const label: SentLabel = { n: ++this.sentCount, kind: KINDS[kind].title, expects: KINDS[kind].expects };
    this.labelsByHash.set(msgHash.toLowerCase(), label);
    this.sentByKind.set(kind, (this.sentByKind.get(kind) ?? 0) + 1);
    return label;
  }

  private printSent(label: SentLabel, from: DevChain, to: DevChain, exec: ExecutedMessage): void {
    const { printer, apiBase } = this.options;
    const colour = label.expects.length ? 'yellow' : 'grey';
    printer.line(
      `${paint('blue', '→ sent')}  #${String(label.n).padEnd(4)} ${paint(colour, label.kind.padEnd(24))} ` +
        `${from.chainId} → ${to.chainId}  msgHash ${shortHash(exec.msgHash)}  (block ${exec.blockNumber})`,
    );
    // Troubled messages get the full lookup URL, for a person to open or curl while xmsg still tracks them.
    if (label.expects.length) printer.note(`${apiBase}/api/messages/${exec.msgHash}`);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
