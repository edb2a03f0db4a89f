import { DEPLOYMENT_ID } from '../store/deployment.js';

/**
 * What an alert button names, on every platform: the alert, and the deployment it was posted under. Alert numbers
 * restart when Redis loses xmsg's state, so `XM-5` alone may name another alert than the one the button sits on; the
 * deployment id tells them apart (docs/ARCHITECTURE.md §3). Buttons posted before they carried one have none.
 */
export interface ButtonTarget {
  alertId: string;
  deployment?: string;
}

const ALERT_ID = /^XM-\d{1,12}$/;

/** `XM-42|3f9c0a1b2c4d`, or `XM-42` when Redis holds no deployment marker at the time. */
export const buttonTarget = (alertId: string, deployment?: string): string => (deployment ? `${alertId}|${deployment}` : alertId);

/** The target written by buttonTarget; undefined for anything else (a forged or garbled button). */
export function parseButtonTarget(s: string): ButtonTarget | undefined {
  const [alertId, deployment, ...rest] = s.split('|');
  if (!alertId || !ALERT_ID.test(alertId) || rest.length) return undefined;
  if (deployment === undefined) return { alertId };
  return DEPLOYMENT_ID.test(deployment) ? { alertId, deployment } : undefined;
}
