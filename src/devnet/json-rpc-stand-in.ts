import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A JSON-RPC error as go-ethereum's rpc server sends it (`{code, message}`), thrown by a stand-in's method. */
export class StandInRpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export type StandInMethods = Record<string, (params: unknown[]) => unknown>;

export interface StandInServer {
  url: string;
  /** Each method called, in order (each element of a batch counts). */
  readonly calls: string[];
  /** While true, every request is answered 503, as a node down behind a proxy. */
  down: boolean;
  close(): Promise<void>;
}

/**
 * The loopback JSON-RPC server of the devnet's stand-ins (op-supernode, op-interop-filter): single calls and batches
 * over HTTP POST, answered as go-ethereum's rpc package does: HTTP 200 with `result` or `error`; an unknown method is
 * -32601 "the method X does not exist/is not available", a body that is not JSON -32700.
 */
export async function startStandInServer(methods: StandInMethods): Promise<StandInServer> {
  const state = { url: '', calls: [] as string[], down: false, close: async () => undefined };
  const answer = async (call: { id?: unknown; method?: unknown; params?: unknown }) => {
    const id = call.id ?? null;
    const method = typeof call.method === 'string' ? call.method : '';
    state.calls.push(method);
    const handler = methods[method];
    if (!handler) return { jsonrpc: '2.0', id, error: { code: -32601, message: `the method ${method} does not exist/is not available` } };
    try {
      return { jsonrpc: '2.0', id, result: (await handler(Array.isArray(call.params) ? call.params : [])) ?? null };
    } catch (err) {
      const code = err instanceof StandInRpcError ? err.code : -32000;
      return { jsonrpc: '2.0', id, error: { code, message: (err as Error).message } };
    }
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      if (state.down) {
        res.writeHead(503).end('service unavailable');
        return;
      }
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse error' } }));
        return;
      }
      const out = Array.isArray(body) ? await Promise.all(body.map(answer)) : await answer(body as never);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(out));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<undefined>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve(undefined));
    });
  return state;
}
