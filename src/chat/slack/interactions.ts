import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQueryString } from 'node:querystring';
import { App, HTTPReceiver, LogLevel } from '@slack/bolt';
import type { Logger } from 'pino';
import { ALERT_BUTTONS, type AlertButton, type CommandDeps, runButton, runCommand } from '../../../commands/handlers.js';
import type { Actor } from '../../alerts/chat-port.js';
import { BodyTooLarge, type HttpServer, readBody } from '../../http/server.js';
import { parseButtonTarget } from '../alert-button.js';
import { answerOrDefer, withFailureReply } from '../answer.js';
import { escapeSlack, slackActionId } from './render.js';

export interface SlackInteractionSettings {
  token: string;
  signingSecret: string;
  apiUrl: string;
  oncallGroupId?: string;
  adminUserIds: string[];
}

const MEMBERSHIP_TTL_MS = 60_000;
/** Bolt's own limit for a request body. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;
const MAX_CLOCK_SKEW_S = 300;
/** The action ids of the alert buttons, and every other action id (a forged or outdated button). */
const ALERT_ACTION = new RegExp(`^(${ALERT_BUTTONS.map(slackActionId).join('|')})$`);
const OTHER_ACTION = new RegExp(`^(?!(${ALERT_BUTTONS.map(slackActionId).join('|')})$)`);

/**
 * `/xmsg` slash commands and alert buttons from Slack, through Bolt's HTTP receiver mounted on xmsg's own HTTP
 * server at /slack/events (Bolt checks the v0 signature and the 5-minute timestamp window).
 */
export function mountSlackInteractions(http: HttpServer, settings: SlackInteractionSettings, deps: CommandDeps, log: Logger): App {
  const receiver = new HTTPReceiver({ signingSecret: settings.signingSecret, endpoints: '/slack/events', logLevel: LogLevel.ERROR });
  const app = new App({
    receiver,
    // A fixed authorization: Bolt would otherwise call auth.test for every request, and a Slack outage would then
    // keep commands from being acknowledged at all.
    authorize: async () => ({ botToken: settings.token }),
    // Short retries: a command's answer is only useful within seconds.
    clientOptions: { slackApiUrl: settings.apiUrl, retryConfig: { retries: 2, maxTimeout: 1000 } },
    logLevel: LogLevel.ERROR,
  });
  const permissions = new OncallMembership(app, settings);

  app.command('/xmsg', async ({ command, ack, respond }) => {
    const actor = await permissions.actor(command.user_id, command.user_name);
    // Slack wants the acknowledgement within 3 s; a slower answer goes via response_url.
    await answerOrDefer(withFailureReply(runCommand(command.text ?? '', actor, deps), log, 'command failed'), {
      now: (reply) => ack({ response_type: 'ephemeral', text: escapeSlack(reply.text) }),
      defer: () => ack({ response_type: 'ephemeral', text: 'Working on it…' }),
      later: async (reply) => {
        await respond({ response_type: 'ephemeral', text: escapeSlack(reply.text) });
      },
    });
  });

  app.action(ALERT_ACTION, async ({ action, body, ack, respond }) => {
    await ack();
    const button = ('action_id' in action ? action.action_id : '').replace(/^xmsg_/, '') as AlertButton;
    const target = 'value' in action && typeof action.value === 'string' ? parseButtonTarget(action.value) : undefined;
    if (!ALERT_BUTTONS.includes(button) || !target) {
      await respond({ response_type: 'ephemeral', replace_original: false, text: 'This button does not name an alert.' });
      return;
    }
    const user = body.user as { id: string; username?: string; name?: string };
    const actor = await permissions.actor(user.id, user.username ?? user.name ?? user.id);
    const reply = await withFailureReply(runButton(button, target.alertId, actor, deps, target.deployment), log, 'command failed');
    await respond({ response_type: 'ephemeral', replace_original: false, text: escapeSlack(reply.text) });
  });

  // A button xmsg does not know (a forged or outdated payload): say so, rather than leave it unanswered (Bolt would
  // answer 404 after 3 s and the person would see nothing).
  app.action(OTHER_ACTION, async ({ ack, respond }) => {
    await ack();
    await respond({ response_type: 'ephemeral', replace_original: false, text: "This button is not one of xmsg's. Try `/xmsg help`." });
  });

  app.error(async (err) => {
    log.error({ err: err.message }, 'slack interaction failed');
  });

  http.mount('/slack/events', (req, res) => void guardBody(req, res, receiver.requestListener, log));
  return app;
}

/**
 * Reads the body before Bolt does and refuses one that is not a JSON object where Bolt expects one (the form's
 * `payload`, or a JSON body): Bolt reads a property of whatever `JSON.parse` returns outside any try, so a signed
 * `payload=null` would otherwise end the process with an unhandled rejection. Bolt uses the buffered body as is
 * (`rawBody`) and still checks the signature. Also refuses a timestamp from more than 5 minutes in the future.
 */
async function guardBody(
  req: IncomingMessage,
  res: ServerResponse,
  bolt: (req: IncomingMessage, res: ServerResponse) => void,
  log: Logger,
): Promise<void> {
  try {
    if (req.method !== 'POST') return bolt(req, res);
    // Bolt refuses a timestamp more than 5 minutes old but not one from the future; Slack's rule is "5 minutes off".
    const sentAt = Number(req.headers['x-slack-request-timestamp']);
    if (Number.isFinite(sentAt) && sentAt > Date.now() / 1000 + MAX_CLOCK_SKEW_S) {
      res.writeHead(401, { 'content-type': 'text/plain' }).end('request timestamp is in the future');
      return;
    }
    let raw: Buffer;
    try {
      raw = await readBody(req, MAX_BODY_BYTES);
    } catch (err) {
      if (!(err instanceof BodyTooLarge)) throw err;
      res.writeHead(413, { 'content-type': 'text/plain' }).end(err.message);
      return;
    }
    if (!isObjectBody(req.headers['content-type'], raw.toString('utf8'))) {
      res
        .writeHead(400, { 'content-type': 'text/plain' })
        .end('malformed body: expected a form (its payload a JSON object) or a JSON object');
      return;
    }
    (req as IncomingMessage & { rawBody?: Buffer }).rawBody = raw;
    bolt(req, res);
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'could not read a request to /slack/events');
    if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' }).end('unreadable request');
  }
}

/** What Bolt's body parser will make of the body is an object (it parses exactly this way). */
function isObjectBody(contentType: string | undefined, body: string): boolean {
  let parsed: unknown;
  try {
    if (contentType === 'application/x-www-form-urlencoded') {
      const { payload } = parseQueryString(body);
      if (typeof payload !== 'string') return true;
      parsed = JSON.parse(payload);
    } else {
      parsed = JSON.parse(body);
    }
  } catch {
    return true; // Bolt itself answers 400 for a body that does not parse
  }
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
}

/** Who may act: members of the on-call user group (asked of Slack, cached a minute) and the configured admins. */
class OncallMembership {
  private cache?: { members: Set<string>; until: number };

  constructor(
    private readonly app: App,
    private readonly settings: SlackInteractionSettings,
  ) {}

  async actor(userId: string, name: string): Promise<Actor> {
    const base = { platform: 'slack', userId, name };
    if (this.settings.adminUserIds.includes(userId)) return { ...base, canAct: true };
    const group = this.settings.oncallGroupId;
    if (!group)
      return {
        ...base,
        canAct: false,
        refusal: 'you are not in SLACK_ADMIN_USER_IDS and no on-call group (SLACK_ONCALL_GROUP_ID) is configured',
      };
    try {
      const members = await this.members(group);
      return members.has(userId)
        ? { ...base, canAct: true }
        : { ...base, canAct: false, refusal: `you are not a member of the on-call user group ${group}` };
    } catch (err) {
      return { ...base, canAct: false, refusal: `could not check the on-call group (${(err as Error).message}); try again` };
    }
  }

  private async members(group: string): Promise<Set<string>> {
    if (this.cache && this.cache.until > Date.now()) return this.cache.members;
    const res = await this.app.client.usergroups.users.list({ token: this.settings.token, usergroup: group });
    const members = new Set(res.users ?? []);
    this.cache = { members, until: Date.now() + MEMBERSHIP_TTL_MS };
    return members;
  }
}
