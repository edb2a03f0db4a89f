import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** How long a console sign-in lasts. */
export const SESSION_MAX_AGE_S = 12 * 3600;
export const SESSION_COOKIE = 'xmsg_console';

/** What a request to the console may do: use it, sign in first, or nothing (and why). */
export type ConsoleAccessVerdict = 'ok' | 'sign-in' | 'remote' | 'not-localhost';

/**
 * Who may use the console. Decided on the connection, never on what a client says about itself: without a token,
 * only a loopback socket (`req.socket.remoteAddress`) is served, so a `Host: localhost` header or a remote client
 * gets nothing; its Host must also be a loopback name, so a web page on another name that resolves to 127.0.0.1
 * (DNS rebinding) is refused. With XMSG_CONSOLE_TOKEN, every visitor, local or not (a reverse proxy on this machine
 * makes every client loopback), signs in with the token and then carries a session cookie: an expiry and a random
 * id, signed with a key derived from the token (so the cookie never holds the token, any replica can check it, and
 * changing the token ends every session).
 */
export class ConsoleAccess {
  private readonly tokenDigest?: Buffer;
  private readonly sessionKey?: Buffer;

  constructor(token?: string) {
    if (token === undefined) return;
    this.tokenDigest = sha256(token);
    this.sessionKey = createHmac('sha256', token).update('xmsg console session key').digest();
  }

  /** Whether sign-in is how visitors get in (XMSG_CONSOLE_TOKEN is set). */
  get signingIn(): boolean {
    return this.sessionKey !== undefined;
  }

  check(req: IncomingMessage): ConsoleAccessVerdict {
    if (this.sessionKey) return this.validSession(cookie(req.headers.cookie, SESSION_COOKIE)) ? 'ok' : 'sign-in';
    if (!isLoopbackAddress(req.socket.remoteAddress)) return 'remote';
    const host = hostname(req.headers.host);
    return host !== undefined && LOOPBACK_NAMES.has(host) ? 'ok' : 'not-localhost';
  }

  /** A new session for the right token (compared in constant time), undefined for any other. */
  signIn(given: string, now = Date.now()): { cookie: (secure: boolean) => string } | undefined {
    if (!this.sessionKey || !this.tokenDigest || !timingSafeEqual(sha256(given), this.tokenDigest)) return undefined;
    const payload = `${now + SESSION_MAX_AGE_S * 1000}.${randomBytes(16).toString('base64url')}`;
    const value = `${payload}.${this.mac(payload)}`;
    return {
      cookie: (secure) =>
        `${SESSION_COOKIE}=${value}; Path=/; Max-Age=${SESSION_MAX_AGE_S}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`,
    };
  }

  private validSession(value: string | undefined, now = Date.now()): boolean {
    const m = /^(\d{1,15})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/.exec(value ?? '');
    if (!m) return false;
    // Compared as text: base64url decoding ignores the last character's spare bits, so two spellings decode alike.
    const expected = Buffer.from(this.mac(`${m[1]}.${m[2]}`));
    return timingSafeEqual(Buffer.from(m[3]!), expected) && Number(m[1]) > now;
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.sessionKey!).update(payload).digest('base64url');
  }
}

const sha256 = (s: string) => createHash('sha256').update(s).digest();

/** 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6 (a server bound to `::` sees `::ffff:127.0.0.1`). */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.replace(/^::ffff:/i, '');
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4) || address === '::1';
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

function hostname(host: string | undefined): string | undefined {
  if (!host) return undefined;
  const m = /^(\[[^\]]+\]|[^:]+)(?::\d+)?$/.exec(host.trim().toLowerCase());
  return m?.[1];
}

function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
