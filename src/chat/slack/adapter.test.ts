import { WebAPIHTTPError, WebAPIPlatformError, WebAPIRateLimitedError, WebAPIRequestError } from '@slack/web-api';
import { describe, expect, it } from 'vitest';
import { classifyExpectations } from '../../../test/fixtures/chat.js';
import { ChatGone } from '../../alerts/chat-port.js';
import { classify } from './adapter.js';

// The errors as WebClient throws them (@slack/web-api's WebClient.js): a platform error carries the API answer.
const platform = (error: string) => new WebAPIPlatformError({ ok: false, error });
const http = (status: number, text: string) => new WebAPIHTTPError(status, text, { 'content-type': 'text/plain' }, text);

const { retryLater, rejected } = classifyExpectations(classify);

describe('Slack classify', () => {
  it("waits out a rate limit for as long as Slack's Retry-After says", () => {
    expect(retryLater(new WebAPIRateLimitedError(30))).toEqual({ message: 'slack: rate limited', retryAfterMs: 30_000 });
  });

  it('retries 5xx and 429 answers, and refuses other HTTP errors for good', () => {
    expect(retryLater(http(503, 'Service Unavailable'))).toEqual({ message: 'slack: HTTP 503', retryAfterMs: undefined });
    expect(retryLater(http(500, 'Internal Server Error')).message).toBe('slack: HTTP 500');
    expect(retryLater(http(429, 'Too Many Requests')).message).toBe('slack: HTTP 429');
    expect(rejected(http(400, 'Bad Request'))).toBe('slack: HTTP 400');
    expect(rejected(http(404, 'Not Found'))).toBe('slack: HTTP 404');
  });

  it('retries a request that never got an answer', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:443'), { code: 'ECONNREFUSED' });
    expect(retryLater(new WebAPIRequestError(refused))).toEqual({
      message: 'slack: connect ECONNREFUSED 127.0.0.1:443',
      retryAfterMs: undefined,
    });
  });

  it('retries a call its timeout cut (never refuses it: the post may yet be needed, and for a root it is looked for)', () => {
    // What fetch rejects with when WebClient's `AbortSignal.timeout` fires, wrapped as WebClient wraps it.
    const timedOut = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    expect(retryLater(new WebAPIRequestError(timedOut))).toEqual({
      message: 'slack: The operation was aborted due to timeout',
      retryAfterMs: undefined,
    });
  });

  it.each(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout', 'ratelimited'])(
    'retries the transient %s',
    (code) => {
      expect(retryLater(platform(code))).toEqual({ message: `slack: ${code}`, retryAfterMs: undefined });
    },
  );

  it.each([
    'invalid_auth',
    'not_authed',
    'account_inactive',
    'token_revoked',
    'token_expired',
    'not_in_channel',
    'channel_not_found',
    'missing_scope',
  ])('keeps the alert and retries slowly on %s, which a person fixes in the settings', (code) => {
    expect(retryLater(platform(code))).toEqual({ message: `slack: ${code} (check the Slack app settings)`, retryAfterMs: 30_000 });
  });

  it.each(['invalid_blocks', 'msg_too_long', 'invalid_arguments', 'cant_update_message'])('refuses %s for good', (code) => {
    expect(rejected(platform(code))).toBe(`slack: ${code}`);
  });

  it("tells, for a call about one alert's messages, that its thread or root is gone", () => {
    const gone = new Map([
      ['thread_not_found', 'thread'],
      ['message_not_found', 'root'],
      ['channel_not_found', 'thread'],
    ] as const);
    for (const [code, what] of gone) {
      const out = classify(platform(code), gone);
      expect(out).toBeInstanceOf(ChatGone);
      expect(out).toMatchObject({ message: `slack: ${code}`, gone: what });
    }
    // The same codes from a call about the channel (a root, a notice) are not about one alert.
    expect(retryLater(platform('channel_not_found')).message).toBe('slack: channel_not_found (check the Slack app settings)');
    expect(rejected(platform('message_not_found'))).toBe('slack: message_not_found');
  });

  it('retries anything else thrown', () => {
    expect(retryLater(new Error('socket hang up'))).toEqual({ message: 'slack: socket hang up', retryAfterMs: undefined });
    expect(retryLater('weird').message).toBe('slack: weird');
  });
});
