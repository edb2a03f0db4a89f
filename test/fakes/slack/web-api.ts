import { validateBlocks, type BlockJson } from './blocks.js';
import type { Args } from './http.js';
import { IDENTITY, messageJson, type Workspace } from './workspace.js';

/** A Web API answer body: always `ok`, then `error` or the method's fields. */
export type ApiResult = { ok: boolean; error?: string; [key: string]: unknown };

export type Method = (args: Args, ws: Workspace) => ApiResult;

/** Slack truncates longer text; the fake refuses it with Slack's `msg_too_long` so the test notices the loss. */
const MAX_TEXT = 40_000;

const fail = (error: string, messages?: string[]): ApiResult => ({
  ok: false,
  error,
  ...(messages ? { response_metadata: { messages } } : {}),
});

/** Slack reads every argument as a string; JSON bodies may carry numbers or booleans. */
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined);

/** `text` and `blocks` of a chat.* call, each absent when the call has none. */
type Content = { text?: string; blocks?: BlockJson[] };

/** The call's content, or the error Slack answers for it. */
function readContent(args: Args): Content | ApiResult {
  const content: Content = {};
  const text = str(args.text);
  if (text !== undefined) {
    if (text.length > MAX_TEXT) return fail('msg_too_long');
    content.text = text;
  }
  if (args.blocks !== undefined) {
    const verdict = validateBlocks(args.blocks);
    if (!verdict.ok) return fail(verdict.error, verdict.messages);
    content.blocks = verdict.blocks;
  }
  return content;
}

const isError = (v: object): v is ApiResult => 'ok' in v && v.ok === false;
const hasContent = (c: Content) => Boolean(c.text) || Boolean(c.blocks?.length);

const METHODS: Record<string, Method> = {
  'auth.test': () => ({
    ok: true,
    url: `https://${IDENTITY.teamDomain}.slack.com/`,
    team: IDENTITY.teamName,
    user: IDENTITY.botName,
    team_id: IDENTITY.teamId,
    user_id: IDENTITY.botUserId,
    bot_id: IDENTITY.botId,
    is_enterprise_install: false,
  }),

  'chat.postMessage': (args, ws) => {
    const channel = str(args.channel);
    if (!channel) return fail('channel_not_found');
    const content = readContent(args);
    if (isError(content)) return content;
    if (!hasContent(content)) return fail('no_text');
    const threadTs = str(args.thread_ts);
    // Stricter than Slack on purpose: a reply must name an existing root of this channel, so a reply posted before
    // its root (or threaded on a reply's ts) fails the test that causes it.
    if (threadTs) {
      const parent = ws.find(channel, threadTs);
      if (!parent || parent.threadTs) return fail('thread_not_found');
    }
    const message = ws.post(channel, { text: content.text ?? '', blocks: content.blocks }, threadTs);
    return { ok: true, channel, ts: message.ts, message: messageJson(message) };
  },

  'chat.update': (args, ws) => {
    const channel = str(args.channel);
    if (!channel) return fail('channel_not_found');
    const message = ws.find(channel, str(args.ts) ?? '');
    if (!message) return fail('message_not_found');
    const content = readContent(args);
    if (isError(content)) return content;
    if (content.text === undefined && content.blocks === undefined) return fail('no_text');
    ws.edit(message, content);
    return { ok: true, channel, ts: message.ts, text: message.text, message: messageJson(message) };
  },

  'chat.postEphemeral': (args, ws) => {
    if (!str(args.channel)) return fail('channel_not_found');
    const user = str(args.user);
    if (!user || !ws.user(user)) return fail('user_not_in_channel');
    const content = readContent(args);
    if (isError(content)) return content;
    if (!hasContent(content)) return fail('no_text');
    return { ok: true, message_ts: ws.nextTs() };
  },

  'usergroups.users.list': (args, ws) => {
    const id = str(args.usergroup);
    if (!id) return fail('invalid_arguments', ['[ERROR] missing required field: usergroup']);
    const users = ws.usergroup(id);
    return users ? { ok: true, users: [...users] } : fail('no_such_subteam');
  },

  'users.info': (args, ws) => {
    const id = str(args.user) ?? '';
    const user = ws.user(id);
    if (!user) return fail('user_not_found');
    const realName = user.realName ?? user.name;
    return {
      ok: true,
      user: {
        id,
        team_id: IDENTITY.teamId,
        name: user.name,
        real_name: realName,
        deleted: false,
        is_bot: false,
        profile: { real_name: realName, display_name: user.name },
      },
    };
  },
};

/** The implementation of a Web API method, if the fake has one. */
export const methodFor = (name: string): Method | undefined => (Object.hasOwn(METHODS, name) ? METHODS[name] : undefined);
