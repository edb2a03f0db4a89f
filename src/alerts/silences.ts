import type { AlertKind } from './model.js';

const DAY_MS = 86_400_000;

/** A silence: of one alert (`alert`, its id), or of new alerts on a chain, from an origin address or of a kind. */
export interface Silence {
  id: string;
  matcher: 'chain' | 'origin' | 'kind' | 'alert';
  value: string;
  /** When it starts muting (ms): its creation, or the start of a planned maintenance window. */
  from: number;
  /** When it stops muting (ms): its end time, or when it was lifted. */
  until: number;
  by: string;
  reason: string;
  createdAt: number;
  /** Who lifted it before its end time (`/xmsg unsilence`); '' when it ends, or ended, at its end time. */
  endedBy: string;
}

/**
 * How long a silence may last, and how far ahead a maintenance window may be planned. Both bound how long a silence
 * is kept (its end plus the alert retention), so that `…:silences` stays small.
 */
export const SILENCE_LIMITS = { maxDurationMs: 30 * DAY_MS, maxLeadMs: 30 * DAY_MS } as const;

/** Whether the silence mutes at `now`: from its start (inclusive) to its end (exclusive). A scheduled one does not yet. */
export function inEffect(s: Pick<Silence, 'from' | 'until'>, now: number): boolean {
  return s.from <= now && now < s.until;
}

/** What a new alert is about, as silences match it. */
export interface SilencedSubject {
  kind: AlertKind;
  chainId: number;
  /** The message's source chain, when the alert is about a message. */
  sourceChainId?: number;
  /** The message's origin address, when the alert is about a message. */
  origin?: string;
}

/**
 * The first silence in effect at `now` that mutes a new alert: one on its kind, on its chain or on the message's
 * source chain, or on the message's origin address (in any hex case). Silences of one alert (`alert`) mute only that
 * alert and never a new one; scheduled silences and ended ones mute nothing.
 */
export function matchingSilence(silences: readonly Silence[], subject: SilencedSubject, now: number): Silence | undefined {
  return silences.find((s) => inEffect(s, now) && mutesNewAlertsOf(s, subject));
}

/** An alert that exists, as silences cover it: its own, and what it was about when it opened (at `openedAt`, ms). */
export interface SilencedAlert extends SilencedSubject {
  id: string;
  openedAt: number;
}

/**
 * The silence in effect at `now` that covers an existing alert and ends last: one of that alert, or one that was in
 * effect when the alert opened and mutes new alerts like it (a silence of new alerts leaves alone the alerts opened
 * before it). The one ending last, so that an alert covered by several is handed from one to the next the fewest times.
 */
export function coveringSilence(silences: readonly Silence[], alert: SilencedAlert, now: number): Silence | undefined {
  const covering = silences.filter(
    (s) => inEffect(s, now) && (s.matcher === 'alert' ? s.value === alert.id : inEffect(s, alert.openedAt) && mutesNewAlertsOf(s, alert)),
  );
  return covering.reduce<Silence | undefined>((last, s) => (last && last.until >= s.until ? last : s), undefined);
}

function mutesNewAlertsOf(s: Silence, { kind, chainId, sourceChainId, origin }: SilencedSubject): boolean {
  return (
    (s.matcher === 'kind' && s.value === kind) ||
    (s.matcher === 'chain' && (s.value === String(chainId) || s.value === String(sourceChainId))) ||
    (s.matcher === 'origin' && origin !== undefined && s.value.toLowerCase() === origin.toLowerCase())
  );
}

/** What a silence mutes, in words: `chain 902`, `alert XM-7`, `kind unpromoted`, `origin 0x…`. */
export const silenceSubject = (s: Pick<Silence, 'matcher' | 'value'>) => `${s.matcher} ${s.value}`;
