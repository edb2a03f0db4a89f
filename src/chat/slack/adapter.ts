import {
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
  WebClient,
} from '@slack/web-api';
import { ChatRejected, ChatRetryLater, type AlertView, type ChatAdapter, type ChatUpdate, type Mention, type ThreadRef } from '../types.js';
import { escapeSlack, renderRoot } from './render.js';

export interface SlackSettings {
  token: string;
  channel: string;
  apiUrl: string;
  oncallGroupId?: string;
  escalationGroupId?: string;
}

/** Errors that a person fixes in Slack's or xmsg's settings: keep the alert and retry rather than drop it. */
const FIX_AND_RETRY = new Set(['invalid_auth', 'not_authed', 'account_inactive', 'token_revoked', 'token_expired', 'not_in_channel', 'channel_not_found', 'missing_scope', 'thread_not_found', 'message_not_found']);
const TRANSIENT = new Set(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout', 'ratelimited']);

/** Posts alerts to one Slack channel: a Block Kit root, replies in its thread, and edits of the root. */
export class SlackAdapter implements ChatAdapter {
  readonly platform = 'slack';
  readonly client: WebClient;

  constructor(private readonly settings: SlackSettings) {
    // Retries belong to the chat outbox (ordered, durable), not to the HTTP client.
    this.client = new WebClient(settings.token, { slackApiUrl: settings.apiUrl, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true });
  }

  mentionText(mention: Mention | undefined): string {
    if (!mention) return '';
    const group = mention === 'escalation' ? (this.settings.escalationGroupId ?? this.settings.oncallGroupId) : this.settings.oncallGroupId;
    return group ? `<!subteam^${group}>` : '';
  }

  async postRoot(view: AlertView, mention?: Mention): Promise<ThreadRef> {
    const { text, blocks } = renderRoot(view, this.mentionText(mention));
    const res = await this.call(() => this.client.chat.postMessage({ channel: this.settings.channel, text, blocks, unfurl_links: false }));
    return { channel: String(res.channel ?? this.settings.channel), id: String(res.ts) };
  }

  async reply(ref: ThreadRef, update: ChatUpdate): Promise<void> {
    const mention = this.mentionText(update.mention);
    await this.call(() =>
      this.client.chat.postMessage({ channel: ref.channel, thread_ts: ref.id, text: `${mention ? `${mention} ` : ''}${escapeSlack(update.text)}` }),
    );
  }

  async editRoot(ref: ThreadRef, view: AlertView): Promise<void> {
    const { text, blocks } = renderRoot(view);
    await this.call(() => this.client.chat.update({ channel: ref.channel, ts: ref.id, text, blocks }));
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw classify(err);
    }
  }
}

/** Maps @slack/web-api errors onto the outbox's two outcomes: retry later, or never accepted. */
export function classify(err: unknown): Error {
  if (err instanceof WebAPIRateLimitedError) return new ChatRetryLater('slack: rate limited', err.retryAfter * 1000);
  if (err instanceof WebAPIHTTPError) {
    return err.statusCode >= 500 || err.statusCode === 429 ? new ChatRetryLater(`slack: HTTP ${err.statusCode}`) : new ChatRejected(`slack: HTTP ${err.statusCode}`);
  }
  if (err instanceof WebAPIRequestError) return new ChatRetryLater(`slack: ${err.original.message}`);
  if (err instanceof WebAPIPlatformError) {
    const code = err.data.error;
    if (TRANSIENT.has(code)) return new ChatRetryLater(`slack: ${code}`);
    if (FIX_AND_RETRY.has(code)) return new ChatRetryLater(`slack: ${code} (check the Slack app settings)`, 30_000);
    return new ChatRejected(`slack: ${code}`);
  }
  return new ChatRetryLater(`slack: ${(err as Error)?.message ?? String(err)}`);
}
