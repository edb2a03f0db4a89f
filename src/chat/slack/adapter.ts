import { WebAPIHTTPError, WebAPIPlatformError, WebAPIRateLimitedError, WebAPIRequestError, WebClient } from '@slack/web-api';
import {
  type AlertView,
  type ChatAdapter,
  ChatGone,
  ChatRejected,
  ChatRetryLater,
  type ChatUpdate,
  type Mention,
  type ThreadRef,
} from '../../alerts/chat-port.js';
import { groupMentions, type SlackMentionGroups } from './mentions.js';
import { escapeSlack, renderRoot } from './render.js';

export interface SlackSettings extends SlackMentionGroups {
  token: string;
  channel: string;
  apiUrl: string;
}

/** Errors that a person fixes in Slack's or xmsg's settings: keep the alert and retry rather than drop it. */
const FIX_AND_RETRY = new Set([
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'not_in_channel',
  'channel_not_found',
  'missing_scope',
]);
/**
 * Errors that concern one alert's messages, not the app or the channel: the thread (`thread_ts`) or the root
 * (`chat.update`'s `ts`) is gone. A reply also gets `channel_not_found` when the alert's root is in a channel the app
 * no longer sees (the channel setting changed since), which later alerts, posted in the configured channel, escape.
 */
const MESSAGE_GONE: ReadonlyMap<string, ChatGone['gone']> = new Map([
  ['thread_not_found', 'thread'],
  ['message_not_found', 'root'],
  ['channel_not_found', 'thread'],
]);
const TRANSIENT = new Set(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout', 'ratelimited']);
/** Errors of conversations.history and .replies that mean xmsg may not look (an install without the history scopes). */
const CANNOT_LOOK = new Set(['missing_scope', 'not_allowed_token_type', 'method_deprecated']);
/**
 * Errors of conversations.replies that mean the thread (or the channel it was in) is gone: no earlier reply can be in
 * it, and the reply's own post then says what is gone, as on a first attempt.
 */
const NO_THREAD = new Set(['thread_not_found', 'channel_not_found']);

/** The `event_type` of the message metadata on every root: its payload names the alert. */
export const ROOT_EVENT_TYPE = 'xmsg_alert';
/**
 * The `event_type` of the metadata on a reply with a key: its payload names the reply among its thread's (the thread
 * is the alert's root in this deployment, so the key names the reply there, as Discord's nonce does).
 */
export const REPLY_EVENT_TYPE = 'xmsg_reply';
/** The `event_type` of the metadata on a notice with a key: its payload names the notice and the deployment. */
export const NOTICE_EVENT_TYPE = 'xmsg_notice';
/** How far before an attempt's start (by xmsg's clock) a root it posted is looked for: Slack's clock may differ. */
const CLOCK_SKEW_MS = 60_000;
/** conversations.history page size (15 is also the most Slack gives apps under its strictest limits) and pages read. */
const HISTORY_PAGE = 15;
const HISTORY_PAGES = 10;

/**
 * How long one Web API call may go unanswered (@slack/web-api's default is none, and Node's fetch waits 300 s for
 * an answer's headers): the outbox delivers one call at a time per platform, so a call that a hung proxy or a
 * black-holed network took and never answers must not hold every page on Slack. Comparable to Discord's REST client
 * (15 s). A call cut by it retries; for a root, the retry first looks for what the cut call may have posted.
 */
export const SLACK_CALL_TIMEOUT_MS = 10_000;

/** A Slack timestamp ("seconds.micros") for a time in ms. */
const slackTs = (ms: number) => (Math.max(0, ms) / 1000).toFixed(6);

type Metadata = { event_type?: string; event_payload?: unknown } | undefined;

/** The metadata's payload when its event type is `eventType` (the SDK types the payload as `{}`: it is the poster's JSON). */
const payloadOf = (metadata: Metadata, eventType: string) =>
  metadata?.event_type === eventType ? (metadata.event_payload as Record<string, unknown> | undefined) : undefined;

/** Posts alerts to one Slack channel: a Block Kit root, replies in its thread, and edits of the root. */
export class SlackAdapter implements ChatAdapter {
  readonly platform = 'slack';
  readonly client: WebClient;

  constructor(private readonly settings: SlackSettings) {
    // Retries belong to the chat outbox (ordered, durable), not to the HTTP client.
    this.client = new WebClient(settings.token, {
      slackApiUrl: settings.apiUrl,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      timeout: SLACK_CALL_TIMEOUT_MS,
    });
  }

  mentionText(mention: Mention | undefined): string {
    return groupMentions(mention, this.settings);
  }

  async postRoot(view: AlertView, mention?: Mention): Promise<ThreadRef> {
    const { text, blocks } = renderRoot(view, this.mentionText(mention));
    // Slack has no idempotency key: the metadata lets findRoot recognise this root if its answer never arrives.
    const metadata = { event_type: ROOT_EVENT_TYPE, event_payload: { alert_id: view.alert.id, opened_at: view.alert.createdAt } };
    const res = await this.call(() =>
      this.client.chat.postMessage({ channel: this.settings.channel, text, blocks, metadata, unfurl_links: false }),
    );
    return { channel: String(res.channel ?? this.settings.channel), id: String(res.ts) };
  }

  /**
   * The channel's root whose metadata names this alert (its id and opening time, so that another deployment or an
   * earlier Redis's XM-1 in the same channel is not taken), among the messages since `since` (newest first, a few
   * small pages). Needs `channels:history` (or `groups:history` for a private channel).
   */
  async findRoot(view: AlertView, since: number): Promise<ThreadRef | undefined> {
    const root = await this.findInChannel(since, (m) => {
      const payload = payloadOf(m.metadata, ROOT_EVENT_TYPE);
      return payload?.alert_id === view.alert.id && Number(payload.opened_at) === view.alert.createdAt;
    });
    return root ? { channel: this.settings.channel, id: root } : undefined;
  }

  /** The channel's notice whose metadata names this key and deployment, among the messages since `since`. Needs what findRoot does. */
  async findNotice(key: string, since: number, deployment?: string): Promise<boolean> {
    const notice = await this.findInChannel(since, (m) => {
      const payload = payloadOf(m.metadata, NOTICE_EVENT_TYPE);
      return payload?.key === key && payload.deployment === deployment;
    });
    return notice !== undefined;
  }

  /**
   * The ts of the channel's first message (not a thread reply) since `since` that `matches`, newest first, in a few
   * small pages of conversations.history.
   */
  private async findInChannel(since: number, matches: (m: { metadata?: Metadata }) => boolean): Promise<string | undefined> {
    const channel = this.settings.channel;
    let cursor: string | undefined;
    for (let page = 0; page < HISTORY_PAGES; page++) {
      const res = await this.call(
        () =>
          this.client.conversations.history({
            channel,
            oldest: slackTs(since - CLOCK_SKEW_MS),
            inclusive: true,
            limit: HISTORY_PAGE,
            include_all_metadata: true,
            ...(cursor ? { cursor } : {}),
          }),
        CANNOT_LOOK,
      );
      const found = res.messages?.find((m) => (!m.thread_ts || m.thread_ts === m.ts) && matches(m));
      if (found?.ts) return found.ts;
      cursor = res.response_metadata?.next_cursor;
      if (!res.has_more || !cursor) return undefined;
    }
    return undefined;
  }

  /**
   * Whether the thread holds the reply whose metadata names this key, among its replies since `since` (oldest
   * first, a few small pages of conversations.replies). Needs what findRoot does.
   */
  async findReply(ref: ThreadRef, key: string, since: number): Promise<boolean> {
    let cursor: string | undefined;
    for (let page = 0; page < HISTORY_PAGES; page++) {
      const res = await this.repliesPage(ref, since, cursor);
      if (!res) return false;
      const found = res.messages?.some(
        (m) => m.ts !== ref.id && m.thread_ts === ref.id && payloadOf(m.metadata, REPLY_EVENT_TYPE)?.key === key,
      );
      if (found) return true;
      cursor = res.response_metadata?.next_cursor;
      if (!res.has_more || !cursor) return false;
    }
    return false;
  }

  /** One page of a thread's replies since `since`; undefined when the thread is gone. */
  private repliesPage(ref: ThreadRef, since: number, cursor: string | undefined) {
    return this.call(
      () =>
        this.client.conversations
          .replies({
            channel: ref.channel,
            ts: ref.id,
            oldest: slackTs(since - CLOCK_SKEW_MS),
            inclusive: true,
            limit: HISTORY_PAGE,
            include_all_metadata: true,
            ...(cursor ? { cursor } : {}),
          })
          .catch((err: unknown) => {
            if (err instanceof WebAPIPlatformError && NO_THREAD.has(err.data.error)) return undefined;
            throw err;
          }),
      CANNOT_LOOK,
    );
  }

  async reply(ref: ThreadRef, update: ChatUpdate): Promise<void> {
    const mention = this.mentionText(update.mention);
    // Slack has no idempotency key: the metadata lets findReply recognise this reply if its answer never arrives.
    const metadata = update.key ? { metadata: { event_type: REPLY_EVENT_TYPE, event_payload: { key: update.key } } } : {};
    const res = await this.call(
      () =>
        this.client.chat.postMessage({
          channel: ref.channel,
          thread_ts: ref.id,
          text: `${mention ? `${mention} ` : ''}${escapeSlack(update.text)}`,
          ...metadata,
        }),
      undefined,
      MESSAGE_GONE,
    );
    // Slack does not refuse a reply to a root deleted without replies: it posts it to the channel as a message of its
    // own, and only the answer's missing `thread_ts` tells. That stray message goes; the outbox posts the root again.
    if (res.message && res.message.thread_ts !== ref.id) {
      if (res.ts) await this.client.chat.delete({ channel: String(res.channel ?? ref.channel), ts: res.ts }).catch(() => undefined);
      throw new ChatGone(`slack: the root ${ref.id} is gone (the reply was posted outside any thread)`, 'root');
    }
  }

  async editRoot(ref: ThreadRef, view: AlertView): Promise<void> {
    const { text, blocks } = renderRoot(view);
    await this.call(() => this.client.chat.update({ channel: ref.channel, ts: ref.id, text, blocks }), undefined, MESSAGE_GONE);
  }

  async announce(text: string, key?: string, deployment?: string): Promise<void> {
    // As on roots and replies: the metadata lets findNotice recognise this notice if its answer never arrives.
    const metadata = key
      ? { metadata: { event_type: NOTICE_EVENT_TYPE, event_payload: { key, ...(deployment ? { deployment } : {}) } } }
      : {};
    await this.call(() =>
      this.client.chat.postMessage({ channel: this.settings.channel, text: escapeSlack(text), unfurl_links: false, ...metadata }),
    );
  }

  /**
   * `rejected`: platform errors that mean "never", for this call, whatever `classify` says of them in general; `gone`:
   * those that mean one alert's thread or root is gone (only calls about an alert's messages pass it).
   */
  private async call<T>(fn: () => Promise<T>, rejected?: ReadonlySet<string>, gone?: ReadonlyMap<string, ChatGone['gone']>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (rejected && err instanceof WebAPIPlatformError && rejected.has(err.data.error))
        throw new ChatRejected(`slack: ${err.data.error}`);
      throw classify(err, gone);
    }
  }
}

/**
 * Maps @slack/web-api errors onto the outbox's outcomes: retry later, never accepted, or (for a call about one
 * alert's messages, given its `gone` codes) that alert's thread or root is gone.
 */
export function classify(err: unknown, gone?: ReadonlyMap<string, ChatGone['gone']>): Error {
  if (err instanceof WebAPIRateLimitedError) return new ChatRetryLater('slack: rate limited', err.retryAfter * 1000);
  if (err instanceof WebAPIHTTPError) {
    return err.statusCode >= 500 || err.statusCode === 429
      ? new ChatRetryLater(`slack: HTTP ${err.statusCode}`)
      : new ChatRejected(`slack: HTTP ${err.statusCode}`);
  }
  if (err instanceof WebAPIRequestError) return new ChatRetryLater(`slack: ${err.original.message}`);
  if (err instanceof WebAPIPlatformError) {
    const code = err.data.error;
    const what = gone?.get(code);
    if (what) return new ChatGone(`slack: ${code}`, what);
    if (TRANSIENT.has(code)) return new ChatRetryLater(`slack: ${code}`);
    if (FIX_AND_RETRY.has(code)) return new ChatRetryLater(`slack: ${code} (check the Slack app settings)`, 30_000);
    return new ChatRejected(`slack: ${code}`);
  }
  return new ChatRetryLater(`slack: ${(err as Error)?.message ?? String(err)}`);
}
