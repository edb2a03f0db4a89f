import type { AlertKind } from './model.js';
import type { Silence } from './store.js';

/**
 * The first of the active silences that mutes a new alert: one on its kind, on its chain or on the message's source
 * chain, or on the message's origin address (in any hex case). Silences of one alert (`alert`) mute only that alert
 * and never a new one.
 */
export function matchingSilence(
  silences: readonly Silence[],
  kind: AlertKind,
  chainId: number,
  source?: number,
  origin?: string,
): Silence | undefined {
  return silences.find(
    (s) =>
      (s.matcher === 'kind' && s.value === kind) ||
      (s.matcher === 'chain' && (s.value === String(chainId) || s.value === String(source))) ||
      (s.matcher === 'origin' && origin !== undefined && s.value.toLowerCase() === origin.toLowerCase()),
  );
}
