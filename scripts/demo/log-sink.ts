import { type Logger, pino } from 'pino';
import type { Config } from '../../src/config.js';
import { safeLogging } from '../../src/errors.js';
import { type Printer, paint, shortenHexIn, truncate } from './print.js';

const LEVEL_NAMES: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
// Fields every line has, or that only matter to a log collector.
const BORING_FIELDS = new Set(['level', 'time', 'pid', 'hostname', 'service', 'msg']);
const MAX_LINE = 180;

export interface DemoLogger {
  logger: Logger;
  /** From now on xmsg's log lines are dropped: used while shutting down, when failing RPCs are expected. */
  mute(): void;
}

/**
 * xmsg's logger for the demo: pino's JSON lines, with the redaction of every xmsg logger (`safeLogging`), turned into
 * one short line each, in the demo's timeline.
 * Lines about domain events are skipped because xmsg logs every event at warn/error (its stand-in for the
 * alerting layer) and the demo already prints each one from its own handler.
 */
export function demoLogger(config: Config, printer: Printer): DemoLogger {
  let muted = false;
  const sink = {
    write(json: string): void {
      if (muted) return;
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(json) as Record<string, unknown>;
      } catch {
        printer.line(paint('grey', `   xmsg ${json.trim()}`));
        return;
      }
      if ('event' in entry) return;
      const level = LEVEL_NAMES[Number(entry.level)] ?? String(entry.level);
      const fields = Object.entries(entry)
        .filter(([k]) => !BORING_FIELDS.has(k))
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
      const text = truncate(shortenHexIn(`xmsg ${level}: ${String(entry.msg ?? '')} ${fields}`.trim()), MAX_LINE);
      printer.line(paint(Number(entry.level) >= 50 ? 'red' : 'grey', `   ${text}`));
    },
  };
  return {
    // With xmsg's own redaction: a person may run the demo with a real RPC or Redis URL (API key, password) in REDIS_URL.
    logger: pino({ ...safeLogging, level: config.logLevel, base: { service: 'xmsg' } }, sink),
    mute: () => (muted = true),
  };
}
