import { createHash } from 'node:crypto';
import {
  type APIChannel,
  type APIMessage,
  DiscordAPIError,
  HTTPError,
  RateLimitError,
  type REST,
  type RESTPostAPIChannelMessageJSONBody,
  Routes,
} from 'discord.js';
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
import { truncate } from '../text.js';
import { type DiscordMentionRoles, roleMentions } from './mentions.js';
import { renderRoot } from './render.js';

export interface DiscordSettings extends DiscordMentionRoles {
  channel: string;
  /** The bot token: @discordjs/rest forgets it on a 401, and the adapter gives it back for the next attempt. */
  token: string;
}

/** Discord error codes a person fixes (permissions, a deleted channel): keep the alert and retry. */
const FIX_AND_RETRY = new Set([10003, 50001, 50013, 0]);
const THREAD_ALREADY_CREATED = 160004;
const UNKNOWN_CHANNEL = 10003;
const UNKNOWN_MESSAGE = 10008;
const THREAD_ARCHIVED = 50083;
const THREAD_LOCKED = 160005;
/** What one alert's root edit or thread start answers when its root was deleted. */
const ROOT_GONE: ReadonlyMap<number, ChatGone['gone']> = new Map([[UNKNOWN_MESSAGE, 'root']]);
/**
 * What a post in one alert's thread answers when that thread was deleted (the thread is a channel of its own: Unknown
 * Channel), archived or locked by a moderator. The alert channel's own Unknown Channel stays a settings problem.
 */
const THREAD_GONE: ReadonlyMap<number, ChatGone['gone']> = new Map([
  [UNKNOWN_CHANNEL, 'thread'],
  [THREAD_ARCHIVED, 'thread'],
  [THREAD_LOCKED, 'thread'],
]);

/**
 * Posts alerts to one Discord channel through the bot's REST client: an embed with buttons, a thread started
 * from it for every update, edits of the root. Mentions only ever name the on-call and escalation roles (never @everyone).
 */
export class DiscordAdapter implements ChatAdapter {
  readonly platform = 'discord';

  constructor(
    private readonly rest: REST,
    private readonly settings: DiscordSettings,
  ) {}

  private mention(m: Mention | undefined): Pick<RESTPostAPIChannelMessageJSONBody, 'content' | 'allowed_mentions'> {
    return roleMentions(m, this.settings);
  }

  async postRoot(view: AlertView, mention?: Mention): Promise<ThreadRef> {
    // enforce_nonce: if an earlier attempt was carried out but its answer lost (a timeout the REST client retries, a
    // 5xx after the write, a crash before the ref was saved), Discord returns that message instead of a second root.
    const nonce = `${view.alert.id}-${view.alert.createdAt.toString(36)}${view.repost ? `-r${view.repost}` : ''}`.slice(-25);
    const body: RESTPostAPIChannelMessageJSONBody = { ...renderRoot(view), ...this.mention(mention), nonce, enforce_nonce: true };
    const message = (await this.call(() => this.rest.post(Routes.channelMessages(this.settings.channel), { body }))) as APIMessage;
    const ref: ThreadRef = { channel: this.settings.channel, id: message.id };
    // The thread is created here when possible and by the first reply otherwise, so a failure never reposts the root.
    try {
      return { ...ref, thread: await this.startThread(ref, `${view.alert.id} ${view.alert.title}`) };
    } catch {
      return ref;
    }
  }

  async reply(ref: ThreadRef, update: ChatUpdate): Promise<ThreadRef | void> {
    const completed = ref.thread
      ? undefined
      : { ...ref, thread: await this.call(() => this.startThread(ref, update.threadName ?? 'xmsg alert'), ROOT_GONE) };
    const thread = completed?.thread ?? ref.thread!;
    const mention = this.mention(update.mention);
    const content = truncate(`${mention.content ? `${mention.content} ` : ''}${update.text}`, 2000);
    // The root's id is unique to this alert on Discord, so with the update's key it names this reply once.
    const nonce = update.key ? `${BigInt(thread).toString(36)}-${update.key}`.slice(0, 25) : undefined;
    await this.call(
      () =>
        this.rest.post(Routes.channelMessages(thread), {
          body: { content, allowed_mentions: mention.allowed_mentions, ...(nonce ? { nonce, enforce_nonce: true } : {}) },
        }),
      THREAD_GONE,
    );
    return completed;
  }

  async editRoot(ref: ThreadRef, view: AlertView): Promise<void> {
    await this.call(() => this.rest.patch(Routes.channelMessage(ref.channel, ref.id), { body: renderRoot(view) }), ROOT_GONE);
  }

  async announce(text: string, key?: string): Promise<void> {
    // The key makes a retried post (a lost answer) the same message, as a root's nonce does.
    const nonce = key ? `n${createHash('sha256').update(key).digest('base64url').slice(0, 24)}` : undefined;
    const body: RESTPostAPIChannelMessageJSONBody = {
      content: truncate(text, 2000),
      allowed_mentions: { parse: [] },
      ...(nonce ? { nonce, enforce_nonce: true } : {}),
    };
    await this.call(() => this.rest.post(Routes.channelMessages(this.settings.channel), { body }));
  }

  private async startThread(ref: ThreadRef, name: string): Promise<string> {
    try {
      const thread = (await this.rest.post(Routes.threads(ref.channel, ref.id), {
        body: { name: truncate(name, 100), auto_archive_duration: 10080 },
      })) as APIChannel;
      return thread.id;
    } catch (err) {
      // An earlier attempt created it but its answer was lost: a thread started from a message has that message's id.
      if (err instanceof DiscordAPIError && err.code === THREAD_ALREADY_CREATED) return ref.id;
      throw err;
    }
  }

  /** `gone`: the error codes that mean, for this call, that one alert's root or thread is gone. */
  private async call<T>(fn: () => Promise<T>, gone?: ReadonlyMap<number, ChatGone['gone']>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      // Discord also answers 401 in its own incidents, not only to a wrong token: without the token back, every later
      // post would fail with "no token" until a restart.
      if (err instanceof DiscordAPIError && err.status === 401) this.rest.setToken(this.settings.token);
      throw classify(err, gone);
    }
  }
}

/**
 * Maps @discordjs/rest errors onto the outbox's outcomes: retry later, never accepted, or (for a call about one
 * alert's messages, given its `gone` codes) that alert's root or thread is gone. 429s are normally waited out inside
 * the REST client.
 */
export function classify(err: unknown, gone?: ReadonlyMap<number, ChatGone['gone']>): Error {
  if (err instanceof RateLimitError) return new ChatRetryLater('discord: rate limited', err.retryAfter);
  if (err instanceof HTTPError) return new ChatRetryLater(`discord: HTTP ${err.status}`);
  if (err instanceof DiscordAPIError) {
    if (err.status >= 500 || err.status === 429) return new ChatRetryLater(`discord: HTTP ${err.status}`);
    const what = gone?.get(Number(err.code));
    if (what) return new ChatGone(`discord: ${err.message}`, what);
    if (err.status === 401) return new ChatRetryLater(`discord: ${err.message} (check DISCORD_BOT_TOKEN)`);
    if (FIX_AND_RETRY.has(Number(err.code))) return new ChatRetryLater(`discord: ${err.message} (check the bot's settings)`, 30_000);
    return new ChatRejected(`discord: ${err.message}`);
  }
  return new ChatRetryLater(`discord: ${(err as Error)?.message ?? String(err)}`);
}
