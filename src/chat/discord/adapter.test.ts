import { DiscordAPIError, HTTPError, RateLimitError } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { classifyExpectations } from '../../../test/fixtures/chat.js';
import { ChatGone } from '../../alerts/chat-port.js';
import { classify } from './adapter.js';

// The errors as @discordjs/rest throws them (handleErrors and onRateLimit in its REST handlers).
const URL = 'https://discord.com/api/v10/channels/1/messages';
const request = { body: { content: 'x' }, files: undefined };
/** What Discord answered: its message, its error code and, for a bad request, the fields at fault. */
type DiscordErrorBody = Extract<ConstructorParameters<typeof DiscordAPIError>[0], { code: number }>;
const apiError = (status: number, data: DiscordErrorBody) => new DiscordAPIError(data, data.code, status, 'POST', URL, request);
const rateLimit = (retryAfter: number) =>
  new RateLimitError({
    timeToReset: retryAfter,
    limit: 5,
    method: 'POST',
    hash: 'Global(POST:/channels/:id/messages)',
    url: URL,
    route: '/channels/:id/messages',
    majorParameter: '1',
    global: false,
    retryAfter,
    sublimitTimeout: 0,
    scope: 'user',
  });

const { retryLater, rejected } = classifyExpectations(classify);

describe('Discord classify', () => {
  it('waits out a rate limit the REST client gave up on for as long as Discord says', () => {
    expect(retryLater(rateLimit(1500))).toEqual({ message: 'discord: rate limited', retryAfterMs: 1500 });
  });

  it('retries a 5xx the REST client gave up on', () => {
    expect(retryLater(new HTTPError(503, 'Service Unavailable', 'POST', URL, request))).toEqual({
      message: 'discord: HTTP 503',
      retryAfterMs: undefined,
    });
    expect(retryLater(apiError(502, { message: 'Bad Gateway', code: 0 })).message).toBe('discord: HTTP 502');
    expect(retryLater(apiError(429, { message: 'You are being rate limited.', code: 0 })).message).toBe('discord: HTTP 429');
  });

  it('retries a 401, naming the token to check', () => {
    expect(retryLater(apiError(401, { message: '401: Unauthorized', code: 0 }))).toEqual({
      message: 'discord: 401: Unauthorized (check DISCORD_BOT_TOKEN)',
      retryAfterMs: undefined,
    });
  });

  it.each([
    [404, 10003, 'Unknown Channel'],
    [403, 50001, 'Missing Access'],
    [403, 50013, 'Missing Permissions'],
    [403, 0, 'Forbidden'],
  ])('keeps the alert and retries slowly on %i %i %s, which a person fixes in the bot settings', (status, code, message) => {
    expect(retryLater(apiError(status, { message, code }))).toEqual({
      message: `discord: ${message} (check the bot's settings)`,
      retryAfterMs: 30_000,
    });
  });

  it('refuses for good what Discord will never accept, with its reasons', () => {
    const invalidBody = apiError(400, {
      message: 'Invalid Form Body',
      code: 50035,
      errors: { embeds: { 0: { title: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 256 or fewer in length.' }] } } } },
    });
    expect(rejected(invalidBody)).toBe(
      'discord: Invalid Form Body\nembeds[0].title[BASE_TYPE_MAX_LENGTH]: Must be 256 or fewer in length.',
    );
    expect(rejected(apiError(404, { message: 'Unknown Message', code: 10008 }))).toBe('discord: Unknown Message');
  });

  it("tells, for a call about one alert's messages, that its root or thread is gone", () => {
    const gone = new Map([
      [10008, 'root'],
      [10003, 'thread'],
      [50083, 'thread'],
      [160005, 'thread'],
    ] as const);
    for (const [status, code, message, what] of [
      [404, 10008, 'Unknown Message', 'root'],
      [404, 10003, 'Unknown Channel', 'thread'],
      [400, 50083, 'Thread is archived', 'thread'],
      [403, 160005, 'Thread is locked', 'thread'],
    ] as const) {
      const out = classify(apiError(status, { message, code }), gone);
      expect(out).toBeInstanceOf(ChatGone);
      expect(out).toMatchObject({ message: `discord: ${message}`, gone: what });
    }
    // Unknown Channel from a post in the alert channel itself is a settings problem, not one alert's.
    expect(retryLater(apiError(404, { message: 'Unknown Channel', code: 10003 })).retryAfterMs).toBe(30_000);
  });

  it('retries anything else thrown (a network failure)', () => {
    expect(retryLater(new TypeError('fetch failed'))).toEqual({ message: 'discord: fetch failed', retryAfterMs: undefined });
    expect(retryLater('weird').message).toBe('discord: weird');
  });
});
