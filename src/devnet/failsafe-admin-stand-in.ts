import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback stand-in for op-interop-filter's admin port (DESIGN.md §5): `admin_getFailsafeEnabled` and
 * `admin_setFailsafeEnabled(bool)` over JSON-RPC, with the same JWT check as op-service's RPC server when given a
 * secret (HS256, `iat` within 60 s, HTTP 401 with geth's texts otherwise). It counts the calls it served, and a test
 * can turn it off and on, make it refuse every token, or flip the failsafe itself (a change made outside xmsg).
 * Given the filter stand-in, it is that filter's admin port, as on op-interop-filter: the failsafe it sets is the one
 * that makes the filter refuse every check.
 */
export interface FailsafeAdminStandIn {
  readonly url: string;
  /** The failsafe as the filter holds it. */
  enabled: boolean;
  /** Each admin_setFailsafeEnabled served, with its argument, in order. */
  readonly sets: boolean[];
  /** How many admin_getFailsafeEnabled were served. */
  gets: number;
  /** While true, every request is answered 401 as a wrong secret would be. */
  refuseAuth: boolean;
  /** While true, every request is answered 503 (the node down behind a proxy). */
  down: boolean;
  close(): Promise<void>;
}

const JWT_WINDOW_S = 60;

/** Why geth's jwtHandler would refuse the Authorization header, or undefined when it accepts it. */
function jwtRefusal(header: string | undefined, secret: Buffer): string | undefined {
  if (!header?.startsWith('Bearer ')) return 'missing token';
  const [head, payload, signature, ...rest] = header.slice('Bearer '.length).split('.');
  if (!head || !payload || !signature || rest.length) return 'token contains an invalid number of segments';
  let alg: unknown;
  let iat: unknown;
  try {
    alg = (JSON.parse(Buffer.from(head, 'base64url').toString('utf8')) as { alg?: unknown }).alg;
    iat = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { iat?: unknown }).iat;
  } catch {
    return 'token is malformed';
  }
  if (alg !== 'HS256') return `signing method ${String(alg)} is invalid`;
  const expected = createHmac('sha256', secret).update(`${head}.${payload}`).digest();
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'signature is invalid';
  if (typeof iat !== 'number') return 'missing issued-at';
  const now = Date.now() / 1000;
  if (now - iat > JWT_WINDOW_S) return 'stale token';
  if (iat - now > JWT_WINDOW_S) return 'future token';
  return undefined;
}

export async function startFailsafeAdminStandIn(
  o: { secret?: Buffer; enabled?: boolean; port?: number; filter?: { failsafe: boolean } } = {},
): Promise<FailsafeAdminStandIn> {
  let server: Server;
  const failsafe = o.filter ?? { failsafe: false };
  if (o.enabled !== undefined) failsafe.failsafe = o.enabled;
  const state = {
    url: '',
    get enabled() {
      return failsafe.failsafe;
    },
    set enabled(on: boolean) {
      failsafe.failsafe = on;
    },
    sets: [] as boolean[],
    gets: 0,
    refuseAuth: false,
    down: false,
    // Keep-alive connections of a client's pool would hold close() until they time out.
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = (status: number, body: string) => res.writeHead(status, { 'content-type': 'text/plain' }).end(`${body}\n`);
      if (state.down) return text(503, 'service unavailable');
      if (state.refuseAuth) return text(401, 'signature is invalid');
      if (o.secret) {
        const refusal = jwtRefusal(req.headers.authorization, o.secret);
        if (refusal) return text(401, refusal);
      }
      let call: { id?: unknown; method?: unknown; params?: unknown };
      try {
        call = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof call;
      } catch {
        return text(400, 'parse error');
      }
      const answer = (body: object) =>
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: call.id ?? null, ...body }));
      if (call.method === 'admin_getFailsafeEnabled') {
        state.gets++;
        return answer({ result: state.enabled });
      }
      if (call.method === 'admin_setFailsafeEnabled') {
        const [enabled] = Array.isArray(call.params) ? call.params : [];
        if (typeof enabled !== 'boolean') return answer({ error: { code: -32602, message: 'invalid argument 0: expected a boolean' } });
        state.sets.push(enabled);
        state.enabled = enabled;
        return answer({ result: null });
      }
      return answer({ error: { code: -32601, message: `the method ${String(call.method)} does not exist/is not available` } });
    });
  });
  await new Promise<void>((resolve) => server.listen(o.port ?? 0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}
