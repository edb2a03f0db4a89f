import type { ChatAdapter } from '../alerts/chat-port.js';
import { EscalationTimers } from '../alerts/escalation.js';
import { FAILSAFE_DEFAULTS, FAILSAFE_KINDS, Failsafe } from '../alerts/failsafe.js';
import { Notifier } from '../alerts/notifier.js';
import { AlertService, type AlertServiceDeps } from '../alerts/service.js';
import { SilenceTimers } from '../alerts/silence-timers.js';
import { AlertStore } from '../alerts/store.js';
import { FailsafeAdmin } from '../chain/failsafe-admin.js';
import { consolePlatform } from '../chat/console/platform.js';
import { discordPlatform } from '../chat/discord/platform.js';
import type { ChatPlatform } from '../chat/platform.js';
import { slackPlatform } from '../chat/slack/platform.js';
import type { Config } from '../config.js';
import { readDeploymentMarker } from '../store/deployment.js';
import type { Keys } from '../store/keys.js';
import type { Shared } from './shared.js';

export interface AlertingInputs {
  keys: Keys;
  /** Chat adapters besides the ones the configuration enables (tests). */
  extraAdapters: ChatAdapter[];
  secondOpinion: AlertServiceDeps['secondOpinion'];
}

/**
 * The alerting side of a replica (docs/ARCHITECTURE.md §1, steps 5, 6 and 9): the chat platforms the configuration
 * enables, the alert store and service, the chat outbox, the escalation and silence timers, and the failsafe.
 */
export function buildAlerting(config: Config, shared: Shared, inputs: AlertingInputs) {
  const { redis, prefix } = shared;
  const platformDeps = { ...shared, redisTarget: config.redis };
  const slack = config.slack && slackPlatform(config.slack, platformDeps);
  const discord = config.discord && discordPlatform(config.discord, platformDeps);
  const consoleChat = config.console && consolePlatform(config.console, platformDeps);
  const platforms = [slack, discord, consoleChat].filter((p): p is ChatPlatform => p !== undefined);
  const alertStore = new AlertStore(redis, prefix, config.alerts.retentionS);
  const adapters = [...platforms.map((p) => p.adapter), ...inputs.extraAdapters];
  const { chatMaxPerS: maxPerSecond, retentionS } = config.alerts;
  // Read at each use, not from memory: a button or a post must never pair an alert id with the wrong state.
  const deploymentId = async () => (await readDeploymentMarker(redis, inputs.keys.deployment))?.id;
  const failsafeKinds = config.failsafe ? FAILSAFE_KINDS : undefined;
  const notifier = new Notifier({ ...shared, adapters, store: alertStore, maxPerSecond, retentionS, deploymentId, failsafeKinds });
  const timers = new EscalationTimers(shared);
  const silenceTimers = new SilenceTimers(shared);
  const alerts = new AlertService({
    ...shared,
    store: alertStore,
    notifier,
    timers,
    silenceTimers,
    policy: config.alerts,
    secondOpinion: inputs.secondOpinion,
  });
  const failsafe = config.failsafe ? failsafeSwitch(config, { ...shared, alerts: alertStore, notifier }) : undefined;
  const queues = {
    escalations: timers.queue,
    silences: silenceTimers.queue,
    ...notifier.queuesByName(),
    ...(failsafe ? { failsafe: failsafe.queue } : {}),
  };
  const close = () => Promise.all([notifier.close(), timers.close(), silenceTimers.close(), failsafe?.close()]);
  return { platforms, discord, consoleChat, alertStore, notifier, alerts, failsafe, deploymentId, queues, close };
}

/** The interop failsafe's switch and watch (src/alerts/failsafe.ts), from XMSG_FAILSAFE_*. */
function failsafeSwitch(config: Config, deps: Omit<ConstructorParameters<typeof Failsafe>[0], 'admins'>): Failsafe {
  const fs = config.failsafe!;
  const admins = fs.rpcs.map((url) => new FailsafeAdmin(url, { secret: fs.secret, timeoutMs: config.rpc.timeoutMs }));
  return new Failsafe(
    { ...deps, admins },
    {
      confirmMs: fs.confirmS * 1000,
      auto: fs.auto,
      pollMs: fs.pollMs,
      retryDelayMs: fs.retryMs,
      attempts: FAILSAFE_DEFAULTS.attempts,
      retentionS: config.alerts.retentionS,
    },
  );
}
