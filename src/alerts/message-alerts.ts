import { EVENT_TYPES, type EventType } from '../events/types.js';
import type { AlertKind } from './model.js';
import type { AlertStore } from './store.js';

/** What one tracked message caused: the alerts that list it, and the events about it the alerting layer applied. */
export interface MessageAlerts {
  alerts: Array<{ id: string; kind: AlertKind }>;
  /** Event types, in EVENT_TYPES order. */
  events: EventType[];
}

/**
 * The alerts raised for each message and the events it caused, for `GET /api/messages/:msgHash` and `/xmsg status`.
 * A message event's alert kind is its event type, so the alerts that list the message name most of its events for
 * as long as they are retained; the follow-ups that raise no alert of their own (`replaced`, `promoted`) are found by
 * their deterministic ids, `<type>-<messageId>` (docs/ARCHITECTURE.md §3), among the applied events (kept a day).
 */
export async function messageAlerts(store: AlertStore, messageIds: string[]): Promise<Map<string, MessageAlerts>> {
  const [alertsOf, applied] = await Promise.all([
    store.alertsOfMessages(messageIds),
    Promise.all(
      messageIds.map((m) => Promise.all(EVENT_TYPES.map(async (type) => (await store.alertForEvent(`${type}-${m}`)) !== undefined))),
    ),
  ]);
  return new Map(
    messageIds.map((m, i) => {
      const alerts = alertsOf.get(m) ?? [];
      const seen = new Set<string>(alerts.map((a) => a.kind));
      return [m, { alerts, events: EVENT_TYPES.filter((t, j) => seen.has(t) || applied[i]![j]) }];
    }),
  );
}
