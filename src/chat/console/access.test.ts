import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { ConsoleAccess, isLoopbackAddress, SESSION_MAX_AGE_S } from './access.js';

const TOKEN = 'a-console-token-of-some-length';
/** A request as the HTTP server hands it over: the socket's address, and headers the client chose. */
const req = (remoteAddress: string | undefined, headers: Record<string, string> = {}) =>
  ({ socket: { remoteAddress }, headers }) as unknown as IncomingMessage;

describe('console access', () => {
  it('counts 127.0.0.0/8 and ::1 as loopback, also IPv4-mapped, and nothing else', () => {
    for (const a of ['127.0.0.1', '127.3.2.1', '::1', '::ffff:127.0.0.1']) expect(isLoopbackAddress(a), a).toBe(true);
    for (const a of ['192.0.2.7', '::ffff:192.0.2.7', '10.0.0.1', 'fe80::1', '::', '0.0.0.0', '', undefined, '127.0.0.1.example'])
      expect(isLoopbackAddress(a), String(a)).toBe(false);
  });

  it('without a token: a loopback socket addressed by a loopback name, whatever else the headers claim', () => {
    const access = new ConsoleAccess();
    expect(access.check(req('127.0.0.1', { host: 'localhost:3000' }))).toBe('ok');
    expect(access.check(req('::1', { host: '[::1]:3000' }))).toBe('ok');
    expect(access.check(req('192.0.2.7', { host: 'localhost', 'x-forwarded-for': '127.0.0.1' }))).toBe('remote');
    expect(access.check(req('127.0.0.1', { host: 'rebound.example' }))).toBe('not-localhost');
    expect(access.signIn(TOKEN)).toBeUndefined();
  });

  it('with a token: a signed session from the right token, which expires and cannot be altered', () => {
    const access = new ConsoleAccess(TOKEN);
    expect(access.check(req('127.0.0.1', { host: 'localhost' }))).toBe('sign-in');
    expect(access.signIn(`${TOKEN}!`)).toBeUndefined();
    expect(access.signIn('')).toBeUndefined();
    const cookie = access.signIn(TOKEN)!.cookie(true);
    expect(cookie).toMatch(/; HttpOnly; SameSite=Strict; Secure$/);
    const value = cookie.split(';')[0]!;
    expect(value).not.toContain(TOKEN);
    expect(access.check(req('192.0.2.7', { cookie: `theme=dark; ${value}` }))).toBe('ok');
    // Another deployment's token signs sessions that are worthless here.
    const other = new ConsoleAccess(`${TOKEN}-other`).signIn(`${TOKEN}-other`)!.cookie(false).split(';')[0]!;
    expect(access.check(req('192.0.2.7', { cookie: other }))).toBe('sign-in');
    const expired = access
      .signIn(TOKEN, Date.now() - SESSION_MAX_AGE_S * 1000 - 1)!
      .cookie(false)
      .split(';')[0]!;
    expect(access.check(req('192.0.2.7', { cookie: expired }))).toBe('sign-in');
    // Any other spelling of the signature, even one that decodes to the same bytes (the last character's spare bits).
    const last = value.at(-1)!;
    const spare = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.indexOf(last) ^ 1;
    const respelled = value.slice(0, -1) + 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'[spare]!;
    expect(access.check(req('192.0.2.7', { cookie: respelled }))).toBe('sign-in');
    const altered = `${value.slice(0, -10)}${value.at(-10) === 'x' ? 'y' : 'x'}${value.slice(-9)}`;
    expect(access.check(req('192.0.2.7', { cookie: altered }))).toBe('sign-in');
  });
});
