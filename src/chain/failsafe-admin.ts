import { createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';

/**
 * The interop failsafe's admin JSON-RPC, as op-interop-filter serves it (filter/frontend.go, AdminFrontend):
 * `admin_getFailsafeEnabled() → bool` and `admin_setFailsafeEnabled(bool)`. While it is on, the filter refuses every
 * executing message at ingress. Its admin port is op-service's RPC server with a JWT secret (oprpc.WithJWTSecret): as
 * the engine API, each request carries `Authorization: Bearer <HS256 JWT>` whose `iat` claim is within 60 s of the
 * server's clock (go-ethereum node/jwt_handler.go), signed with a 32-byte secret kept as hex in a file. A request
 * without a valid token gets HTTP 401 and a short text ("missing token", "stale token", …).
 */

/** Why a call failed: the endpoint did not answer, refused the token, or answered with a JSON-RPC error. */
export type FailsafeAdminFailure = 'unreachable' | 'unauthorized' | 'rpc';

export class FailsafeAdminError extends Error {
  constructor(
    message: string,
    readonly failure: FailsafeAdminFailure,
  ) {
    super(message);
    this.name = 'FailsafeAdminError';
  }
}

/** The secret's bytes from its file: 64 hex digits, `0x` optional, surrounding whitespace ignored (as op-node reads it). */
export function parseJwtSecret(text: string): Buffer {
  const hex = text.trim().replace(/^0x/i, '');
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new Error('must hold a 32-byte secret as 64 hex characters (0x optional)');
  return Buffer.from(hex, 'hex');
}

export async function readJwtSecret(path: string): Promise<Buffer> {
  return parseJwtSecret(await readFile(path, 'utf8'));
}

const base64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** An HS256 JWT with only `iat` (seconds), as op-service's and geth's clients make one for every request. */
export function adminJwt(secret: Buffer, nowMs = Date.now()): string {
  const head = `${base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${base64url(JSON.stringify({ iat: Math.floor(nowMs / 1000) }))}`;
  return `${head}.${base64url(createHmac('sha256', secret).update(head).digest())}`;
}

/**
 * How an endpoint is named in metrics, logs and chat: `host:port` only. The URL may carry a credential (user info, a
 * token in the path or the query), which must never leave xmsg's memory.
 */
export function endpointLabel(url: string): string {
  const u = new URL(url);
  const port = u.port || (u.protocol === 'https:' ? '443' : '80');
  return `${u.hostname}:${port}`;
}

export interface FailsafeAdminOptions {
  /** The secret the admin port verifies tokens with; without one no Authorization header is sent. */
  secret?: Buffer;
  timeoutMs?: number;
}

/** One admin endpoint. Every call is one HTTP request: retries are the caller's (the failsafe outbox's jobs). */
export class FailsafeAdmin {
  readonly label: string;
  private id = 0;

  constructor(
    readonly url: string,
    private readonly options: FailsafeAdminOptions = {},
  ) {
    this.label = endpointLabel(url);
  }

  async enabled(): Promise<boolean> {
    const result = await this.call('admin_getFailsafeEnabled', []);
    if (typeof result !== 'boolean')
      throw new FailsafeAdminError(`${this.label}: admin_getFailsafeEnabled answered ${JSON.stringify(result)}, not a boolean`, 'rpc');
    return result;
  }

  async setEnabled(enabled: boolean): Promise<void> {
    await this.call('admin_setFailsafeEnabled', [enabled]);
  }

  private async call(method: string, params: unknown[]): Promise<unknown> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.options.secret) headers.authorization = `Bearer ${adminJwt(this.options.secret)}`;
    let res: Response;
    try {
      res = await fetch(this.url, {
        method: 'POST',
        headers,
        body: JSON.stringify({ jsonrpc: '2.0', id: ++this.id, method, params }),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new FailsafeAdminError(`${this.label}: no answer to ${method} (${cause})`, 'unreachable');
    }
    const text = await res.text().catch(() => '');
    const said = text.trim().slice(0, 200);
    if (res.status === 401 || res.status === 403)
      throw new FailsafeAdminError(
        `${this.label}: refused the authentication (HTTP ${res.status}${said ? `: ${said}` : ''})`,
        'unauthorized',
      );
    if (!res.ok) throw new FailsafeAdminError(`${this.label}: HTTP ${res.status} to ${method}${said ? `: ${said}` : ''}`, 'unreachable');
    let body: { result?: unknown; error?: { code?: number; message?: string } };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new FailsafeAdminError(`${this.label}: ${method} answered something that is not JSON`, 'rpc');
    }
    if (body.error)
      throw new FailsafeAdminError(`${this.label}: ${method} failed: ${body.error.message ?? 'error'} (${body.error.code ?? '?'})`, 'rpc');
    return body.result ?? null;
  }
}
