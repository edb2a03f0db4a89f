import { type BlockJson, validateBlocks } from './blocks.js';
import type { Args } from './http.js';
import { IDENTITY, type MessageMetadata, messageJson, tsMicros, type Workspace } from './workspace.js';

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
const str = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;

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

/** `metadata` of a chat.* call (undefined when absent), or Slack's error for a malformed one. */
function readMetadata(args: Args): MessageMetadata | undefined | ApiResult {
  const m = args.metadata;
  if (m === undefined) return undefined;
  const ok =
    typeof m === 'object' &&
    m !== null &&
    !Array.isArray(m) &&
    typeof (m as MessageMetadata).event_type === 'string' &&
    (m as MessageMetadata).event_type.length > 0 &&
    typeof (m as MessageMetadata).event_payload === 'object' &&
    (m as MessageMetadata).event_payload !== null &&
    !Array.isArray((m as MessageMetadata).event_payload);
  return ok
    ? { event_type: (m as MessageMetadata).event_type, event_payload: (m as MessageMetadata).event_payload }
    : fail('invalid_metadata_format');
}

/** Slack reads `true` and `1` as true. */
const bool = (v: unknown) => v === true || v === 1 || v === 'true' || v === '1';

/** conversations.history's cursor, as Slack makes it: base64 of `next_ts:<micros of the next page's first message>`. */
const encodeCursor = (micros: bigint) => Buffer.from(`next_ts:${micros}`).toString('base64');
const decodeCursor = (cursor: string): bigint | undefined => {
  const m = /^next_ts:(\d+)$/.exec(Buffer.from(cursor, 'base64').toString('utf8'));
  return m ? BigInt(m[1]!) : undefined;
};
const HISTORY_DEFAULT_LIMIT = 100;
const HISTORY_MAX_LIMIT = 999;

/** conversations.replies' default page size (Slack's documented default is 1,000). */
const REPLIES_DEFAULT_LIMIT = 1000;

/** A page size as Slack reads it (absent or 0: the method's default; at most HISTORY_MAX_LIMIT), undefined if invalid. */
function readLimit(v: unknown, byDefault: number): number | undefined {
  if (v === undefined) return byDefault;
  const n = Number(str(v));
  if (!Number.isInteger(n) || n < 0) return undefined;
  return n > 0 ? Math.min(n, HISTORY_MAX_LIMIT) : byDefault;
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
    const metadata = readMetadata(args);
    if (metadata && isError(metadata)) return metadata;
    let threadTs = str(args.thread_ts);
    if (threadTs && ws.wasDeleted(channel, threadTs)) {
      // As Slack does: a reply to a root deleted without replies is not refused but posted to the channel as a
      // message of its own, and only the answer's missing `thread_ts` says so.
      threadTs = undefined;
    } else if (threadTs) {
      // Stricter than Slack on purpose: a reply must name an existing root of this channel (or its tombstone), so a
      // reply posted before its root (or threaded on a reply's ts) fails the test that causes it.
      const parent = ws.threadRoot(channel, threadTs);
      if (!parent || parent.threadTs) return fail('thread_not_found');
    }
    const message = ws.post(channel, { text: content.text ?? '', blocks: content.blocks }, threadTs, metadata);
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
    const metadata = readMetadata(args);
    if (metadata && isError(metadata)) return metadata;
    ws.edit(message, content, metadata);
    return { ok: true, channel, ts: message.ts, text: message.text, message: messageJson(message) };
  },

  /** Deletes one of the app's messages: a root with replies leaves a tombstone that keeps its thread. */
  'chat.delete': (args, ws) => {
    const channel = str(args.channel);
    if (!channel) return fail('channel_not_found');
    const ts = str(args.ts) ?? '';
    if (!ws.delete(channel, ts)) return fail('message_not_found');
    return { ok: true, channel, ts };
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

  /**
   * A channel's messages newest first, roots only (thread replies are conversations.replies'), between `oldest`
   * and `latest` (exclusive unless `inclusive`), `limit` at a time with cursor pagination; metadata only with
   * `include_all_metadata`.
   */
  'conversations.history': (args, ws) => {
    const channel = str(args.channel);
    if (!channel) return fail('channel_not_found');
    const oldest = tsMicros(str(args.oldest) ?? '0');
    if (oldest === undefined) return fail('invalid_ts_oldest');
    const latest = args.latest === undefined ? BigInt(Date.now()) * 1000n + 999n : tsMicros(str(args.latest) ?? '');
    if (latest === undefined) return fail('invalid_ts_latest');
    const limit = readLimit(args.limit, HISTORY_DEFAULT_LIMIT);
    if (limit === undefined) return fail('invalid_limit');
    const cursorArg = str(args.cursor);
    const from = cursorArg ? decodeCursor(cursorArg) : undefined;
    if (cursorArg && from === undefined) return fail('invalid_cursor');
    const inRange = ws
      .rootsBetween(channel, oldest, latest, bool(args.inclusive))
      .filter((m) => from === undefined || tsMicros(m.ts)! <= from);
    const page = inRange.slice(0, limit);
    const next = inRange[limit];
    const withMetadata = bool(args.include_all_metadata);
    const messages = page.map((m) => {
      const replies = ws.replies(channel, m.ts);
      return {
        ...messageJson(m, withMetadata),
        ...(replies.length ? { thread_ts: m.ts, reply_count: replies.length, latest_reply: replies.at(-1)!.ts } : {}),
      };
    });
    return {
      ok: true,
      messages,
      has_more: next !== undefined,
      pin_count: 0,
      channel_actions_ts: null,
      channel_actions_count: 0,
      ...(next ? { response_metadata: { next_cursor: encodeCursor(tsMicros(next.ts)!) } } : {}),
    };
  },

  /**
   * A thread, oldest first: its parent (first, on the first page only, whatever the range), then its replies between
   * `oldest` and `latest` (exclusive unless `inclusive`), `limit` messages a page with cursor pagination; metadata
   * only with `include_all_metadata`. `ts` may name the parent or one of its replies; a root without replies comes
   * back alone, and a message deleted outright (or never posted) is `thread_not_found`.
   */
  'conversations.replies': (args, ws) => {
    const channel = str(args.channel);
    if (!channel) return fail('channel_not_found');
    const ts = str(args.ts);
    if (!ts) return fail('invalid_arguments', ['[ERROR] missing required field: ts']);
    const named = ws.threadRoot(channel, ts) ?? ws.find(channel, ts);
    const parent = named?.threadTs ? ws.threadRoot(channel, named.threadTs) : named;
    if (!parent) return fail('thread_not_found');
    const oldest = tsMicros(str(args.oldest) ?? '0');
    if (oldest === undefined) return fail('invalid_ts_oldest');
    const latest = args.latest === undefined ? BigInt(Date.now()) * 1000n + 999n : tsMicros(str(args.latest) ?? '');
    if (latest === undefined) return fail('invalid_ts_latest');
    const limit = readLimit(args.limit, REPLIES_DEFAULT_LIMIT);
    if (limit === undefined) return fail('invalid_limit');
    const cursorArg = str(args.cursor);
    const from = cursorArg ? decodeCursor(cursorArg) : undefined;
    if (cursorArg && from === undefined) return fail('invalid_cursor');
    const inclusive = bool(args.inclusive);
    const replies = ws.replies(channel, parent.ts);
    const inRange = replies.filter((m) => {
      const t = tsMicros(m.ts)!;
      return (inclusive ? t >= oldest && t <= latest : t > oldest && t < latest) && (from === undefined || t >= from);
    });
    const candidates = from === undefined ? [parent, ...inRange] : inRange;
    const page = candidates.slice(0, limit);
    const next = candidates[limit];
    const withMetadata = bool(args.include_all_metadata);
    const messages = page.map((m) =>
      m === parent && replies.length
        ? {
            ...messageJson(m, withMetadata),
            thread_ts: m.ts,
            reply_count: replies.length,
            reply_users: [IDENTITY.botUserId],
            reply_users_count: 1,
            latest_reply: replies.at(-1)!.ts,
          }
        : messageJson(m, withMetadata),
    );
    return {
      ok: true,
      messages,
      has_more: next !== undefined,
      ...(next ? { response_metadata: { next_cursor: encodeCursor(tsMicros(next.ts)!) } } : {}),
    };
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
