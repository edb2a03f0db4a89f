import type { ChatPlatform, PlatformDeps } from '../platform.js';
import { ReplayGuard } from '../replay.js';
import { SlackAdapter, type SlackSettings } from './adapter.js';
import { mountSlackInteractions, type SlackInteractionSettings } from './interactions.js';

/** Slack, on when SLACK_BOT_TOKEN is set: posts through the Web API, commands and buttons on POST /slack/events. */
export type SlackPlatformSettings = SlackSettings & SlackInteractionSettings;

export function slackPlatform(settings: SlackPlatformSettings, { log, redis, prefix }: PlatformDeps): ChatPlatform {
  return {
    adapter: new SlackAdapter(settings),
    mount(http, commands) {
      mountSlackInteractions(http, settings, commands, log, new ReplayGuard(redis, prefix, 'slack'));
    },
    // Everything Slack sends arrives over HTTP.
    start: async () => undefined,
    stop: async () => undefined,
  };
}
