import type { Alert } from '../../src/alerts/model.js';
import { type Printer, paint, truncate } from './print.js';

const POLL_MS = 1000;

/**
 * One line per alert as it opens, is acknowledged and closes, read from xmsg's own `GET /api/alerts` (what any
 * replica would answer), so the terminal tells the same story as the chat and the console.
 */
export class AlertLines {
  /** The last state printed per alert id. */
  private readonly seen = new Map<string, Alert['state']>();
  private timer?: NodeJS.Timeout;
  private polling = false;

  constructor(
    private readonly apiBase: string,
    private readonly printer: Printer,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.poll(), POLL_MS);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Alerts seen so far by their last state, for the final summary. */
  counts(): Map<Alert['state'], number> {
    const counts = new Map<Alert['state'], number>();
    for (const state of this.seen.values()) counts.set(state, (counts.get(state) ?? 0) + 1);
    return counts;
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const res = await fetch(`${this.apiBase}/api/alerts?state=all`);
      if (!res.ok) return;
      const { alerts } = (await res.json()) as { alerts: Alert[] };
      for (const alert of [...alerts].reverse()) this.report(alert);
    } catch {
      // xmsg stopping or busy: the next poll catches up.
    } finally {
      this.polling = false;
    }
  }

  private report(alert: Alert): void {
    const before = this.seen.get(alert.id);
    if (before === alert.state) return;
    this.seen.set(alert.id, alert.state);
    const what = `${alert.id} ${alert.severity} ${alert.kind} on chain ${alert.chainId}: ${truncate(alert.title, 70)}`;
    if (before === undefined) this.printer.line(`${paint(alert.severity === 'critical' ? 'red' : 'yellow', '▲ alert opened')}   ${what}`);
    if (alert.state === 'acknowledged') this.printer.line(`${paint('cyan', '● alert acked')}    ${alert.id} by ${alert.ackedBy}`);
    if (alert.state === 'resolved') this.printer.line(`${paint('green', '▼ alert closed')}   ${alert.id} by ${alert.resolvedBy || 'xmsg'}`);
  }
}
