import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQueryString } from 'node:querystring';
import { App, HTTPReceiver, LogLevel } from '@slack/bolt';
import type { Logger } from 'pino';
import { type CommandDeps, ROOT_BUTTONS, type RootButton, runButton, runCommand } from '../../../commands/handlers.js';
import type { Actor } from '../../alerts/chat-port.js';
import { BodyTooLarge, type HttpServer, MAX_BODY_BYTES, readBody, refuseTooLarge } from '../../http/server.js';
import { parseButtonTarget } from '../alert-button.js';
import { answerOrDefer, withFailureReply } from '../answer.js';
import { type ReplayGuard, SIGNATURE_WINDOW_S } from '../replay.js';
import { escapeSlack, slackActionId } from './render.js';

export interface SlackInteractionSettings {
  token: string;
  signingSecret: string;
  apiUrl: string;
  oncallGroupId?: string;
  /** SLACK_ESCALATION_GROUP_ID: its members are paged from level 3, so they may act on alerts too. */
  escalationGroupId?: string;
  adminUserIds: string[];
}

const MEMBERSHIP_TTL_MS = 60_000;
/**
 * Who may act is asked of Slack (each acting group in turn, on-call then escalation) before a command is answered,
 * and Slack wants that answer within 3 s: an attempt gets at most 1 s (@slack/web-api waits forever by default), and
 * no retry starts once a group's lookup has taken 0.8 s (so an attempt cut by its timeout is never retried): a Slack
 * that never answers costs about 1 s a group, and the person is asked to try again in time. Errors answered at once
 * are still retried, after a short wait.
 */
const LOOKUP_ATTEMPT_TIMEOUT_MS = 1_000;
const LOOKUP_RETRIES = { retries: 2, minTimeout: 200, maxTimeout: 200, maxRetryTime: 800 };
/** The action ids of the alert buttons, and every other action id (a forged or outdated button). */
const ALERT_ACTION = new RegExp(`^(${ROOT_BUTTONS.map(slackActionId).join('|')})$`);
const OTHER_ACTION = new RegExp(`^(?!(${ROOT_BUTTONS.map(slackActionId).join('|')})$)`);

/**
 * `/xmsg` slash commands and alert buttons from Slack, through Bolt's HTTP receiver mounted on xmsg's own HTTP
 * server at /slack/events. The v0 signature, the 5-minute window and replays are checked on the raw body before
 * anything parses it (`guardBody`); Bolt checks the signature again.
 */
export function mountSlackInteractions(
  http: HttpServer,
  settings: SlackInteractionSettings,
  deps: CommandDeps,
  log: Logger,
  replay: ReplayGuard,
): App {
  const receiver = new HTTPReceiver({ signingSecret: settings.signingSecret, endpoints: '/slack/events', logLevel: LogLevel.ERROR });
  const app = new App({
    receiver,
    // A fixed authorization: Bolt would otherwise call auth.test for every request, and a Slack outage would then
    // keep commands from being acknowledged at all.
    authorize: async () => ({ botToken: settings.token }),
    // Short attempts and retries: a command's answer is only useful within seconds.
    clientOptions: { slackApiUrl: settings.apiUrl, timeout: LOOKUP_ATTEMPT_TIMEOUT_MS, retryConfig: LOOKUP_RETRIES },
    logLevel: LogLevel.ERROR,
  });
  const permissions = new ActingMembership(app, settings);

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
    const button = ('action_id' in action ? action.action_id : '').replace(/^xmsg_/, '') as RootButton;
    const target = 'value' in action && typeof action.value === 'string' ? parseButtonTarget(action.value) : undefined;
    if (!ROOT_BUTTONS.includes(button) || !target) {
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

  const guard = { secret: settings.signingSecret, replay, log };
  http.mount('/slack/events', (req, res) => void guardBody(req, res, receiver.requestListener, guard));
  return app;
}

interface BodyGuard {
  secret: string;
  replay: ReplayGuard;
  log: Logger;
}

/**
 * Checks a request before Bolt sees it, on the raw bytes and before anything is parsed: a body of at most 64 KiB
 * (refused from its Content-Length, or as soon as it passes it), the timestamp within 5 minutes either way (Bolt
 * refuses an old one, not one from the future), the v0 signature (HMAC-SHA256 of `v0:<timestamp>:<body>`, constant
 * time), and a signature never seen before (a replay within the window is refused on every replica). Then refuses
 * a body that is not a JSON object where Bolt expects one (the form's `payload`, or a JSON body): Bolt reads a
 * property of whatever `JSON.parse` returns outside any try, so a signed `payload=null` would otherwise end the
 * process with an unhandled rejection. Bolt uses the buffered body as is (`rawBody`) and checks the signature again.
 */
async function guardBody(
  req: IncomingMessage,
  res: ServerResponse,
  bolt: (req: IncomingMessage, res: ServerResponse) => void,
  { secret, replay, log }: BodyGuard,
): Promise<void> {
  const refuse = (status: number, text: string) => res.writeHead(status, { 'content-type': 'text/plain' }).end(text);
  try {
    if (req.method !== 'POST') return bolt(req, res);
    let raw: Buffer;
    try {
      raw = await readBody(req, MAX_BODY_BYTES);
    } catch (err) {
      if (!(err instanceof BodyTooLarge)) throw err;
      refuseTooLarge(res, err, (r, text) => r.writeHead(413, { 'content-type': 'text/plain' }).end(text));
      return;
    }
    const sentAt = Number(req.headers['x-slack-request-timestamp']);
    if (!Number.isSafeInteger(sentAt) || Math.abs(Date.now() / 1000 - sentAt) > SIGNATURE_WINDOW_S) {
      refuse(401, 'missing request timestamp, or more than 5 minutes off');
      return;
    }
    const signature = String(req.headers['x-slack-signature'] ?? '');
    if (!validSignature(secret, sentAt, raw, signature)) {
      refuse(401, 'invalid request signature');
      return;
    }
    if (!(await replay.firstSeen(signature, sentAt))) {
      refuse(401, 'request already received (a replay)');
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

/** Slack's v0 signature: `v0=` and the hex HMAC-SHA256 of `v0:<timestamp>:<raw body>` with the signing secret. */
function validSignature(secret: string, timestamp: number, raw: Buffer, signature: string): boolean {
  const given = /^v0=([0-9a-f]{64})$/.exec(signature)?.[1];
  if (!given) return false;
  const expected = createHmac('sha256', secret).update(`v0:${timestamp}:`).update(raw).digest();
  return timingSafeEqual(Buffer.from(given, 'hex'), expected);
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

/** A user group whose members may act, and what a refusal or a failed lookup calls it. */
interface ActingGroup {
  id: string;
  role: 'on-call' | 'escalation';
}

/**
 * Who may act: the configured admins, and members of the on-call and escalation user groups (each asked of Slack
 * and cached a minute). The escalation group is paged when on-call does not answer, so its members must be able to
 * stop the pages. A group whose lookup fails does not refuse a user another group admits.
 */
class ActingMembership {
  private readonly cache = new Map<string, { members: Set<string>; until: number }>();
  private readonly groups: ActingGroup[];

  constructor(
    private readonly app: App,
    private readonly settings: SlackInteractionSettings,
  ) {
    this.groups = actingGroups(settings);
  }

  async actor(userId: string, name: string): Promise<Actor> {
    const base = { platform: 'slack', userId, name };
    if (this.settings.adminUserIds.includes(userId)) return { ...base, canAct: true };
    if (!this.groups.length)
      return {
        ...base,
        canAct: false,
        refusal:
          'you are not in SLACK_ADMIN_USER_IDS and no on-call or escalation group (SLACK_ONCALL_GROUP_ID, SLACK_ESCALATION_GROUP_ID) is configured',
      };
    const unchecked: string[] = [];
    for (const group of this.groups) {
      try {
        if ((await this.members(group.id)).has(userId)) return { ...base, canAct: true };
      } catch (err) {
        unchecked.push(`the ${group.role} group (${(err as Error).message})`);
      }
    }
    const refusal = unchecked.length ? `could not check ${unchecked.join(' or ')}; try again` : notAMemberOf(this.groups);
    return { ...base, canAct: false, refusal };
  }

  private async members(group: string): Promise<Set<string>> {
    const cached = this.cache.get(group);
    if (cached && cached.until > Date.now()) return cached.members;
    const res = await this.app.client.usergroups.users.list({ token: this.settings.token, usergroup: group });
    const members = new Set(res.users ?? []);
    this.cache.set(group, { members, until: Date.now() + MEMBERSHIP_TTL_MS });
    return members;
  }
}

/** The configured groups, on-call first (it is asked first); an escalation group that is the on-call one once. */
function actingGroups({ oncallGroupId, escalationGroupId }: SlackInteractionSettings): ActingGroup[] {
  const groups: ActingGroup[] = [];
  if (oncallGroupId) groups.push({ id: oncallGroupId, role: 'on-call' });
  if (escalationGroupId && escalationGroupId !== oncallGroupId) groups.push({ id: escalationGroupId, role: 'escalation' });
  return groups;
}

function notAMemberOf(groups: ActingGroup[]): string {
  const named = groups.map((g) => `the ${g.role} user group ${g.id}`);
  return named.length === 1 ? `you are not a member of ${named[0]}` : `you are a member of neither ${named.join(' nor ')}`;
}
