import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { numberToHex } from 'viem';
import { mulberry32 } from './random.js';

export type BlockLabel = 'safe' | 'finalized';

export interface ProxyFaults {
  /** Share of HTTP requests answered with 503 instead of being forwarded, 0..1. */
  failRate?: number;
  /** Share of HTTP requests held for stallMs before being forwarded, 0..1. */
  stallRate?: number;
  /** How long a stalled request is held; long enough by default to trip any client timeout. */
  stallMs?: number;
  /** Destroy every socket at once, open or new, like a dead node. */
  down?: boolean;
  /** HTTP requests carrying any of these methods are answered with 503 (an overloaded node behind a gateway). */
  failMethods?: readonly string[];
  /** Makes the failRate/stallRate draws reproducible. */
  seed?: number;
  /**
   * Most logs one eth_getLogs may return: a larger answer becomes the JSON-RPC error -32005 "query returned more
   * than N results", as hosted nodes (Infura, and others with their own numbers) cap results.
   */
  logsLimit?: number;
}

export interface RpcProxy {
  /** What clients are pointed at instead of the upstream node. */
  url: string;
  /** Answer `label` with block n from now on; null hands the label back to the upstream node. */
  setLabel(label: BlockLabel, n: bigint | null): void;
  /** JSON-RPC calls received per method (each element of a batch counts), including ones a fault answered. */
  counts(): Record<string, number>;
  /** HTTP requests received, including ones a fault answered. */
  httpRequests(): number;
  /** Resets both counts() and httpRequests(). */
  resetCounts(): void;
  /** Replaces the whole fault configuration; setFaults({}) heals the node. */
  setFaults(faults: ProxyFaults): void;
  stop(): Promise<void>;
}

interface JsonRpcCall {
  method?: unknown;
  params?: unknown;
}

const DEFAULT_STALL_MS = 30_000;

// Where the block tag sits in the params of the methods that take one.
const BLOCK_PARAM_INDEX: Record<string, number> = {
  eth_getBlockByNumber: 0,
  eth_getBlockReceipts: 0,
  eth_getBlockTransactionCountByNumber: 0,
  eth_getBalance: 1,
  eth_getCode: 1,
  eth_getTransactionCount: 1,
  eth_call: 1,
  eth_estimateGas: 1,
  eth_getStorageAt: 2,
};

export async function startRpcProxy(upstreamUrl: string): Promise<RpcProxy> {
  const labels = new Map<BlockLabel, bigint>();
  let methodCounts: Record<string, number> = {};
  let httpCount = 0;
  let faults: ProxyFaults = {};
  let random: () => number = Math.random;
  const sockets = new Set<Socket>();
  // Ends a stall early: stop() must not leave requests parked on timers.
  const stalls = new Set<() => void>();

  const rewriteTag = (tag: unknown): unknown => {
    if (tag !== 'safe' && tag !== 'finalized') return tag;
    const n = labels.get(tag);
    return n === undefined ? tag : numberToHex(n);
  };

  const rewriteCall = (call: JsonRpcCall): JsonRpcCall => {
    if (typeof call.method !== 'string' || !Array.isArray(call.params)) return call;
    const params = [...call.params];
    if (call.method === 'eth_getLogs') {
      const filter = params[0] as Record<string, unknown> | undefined;
      if (filter && typeof filter === 'object') {
        params[0] = { ...filter, fromBlock: rewriteTag(filter.fromBlock), toBlock: rewriteTag(filter.toBlock) };
      }
    } else {
      const index = BLOCK_PARAM_INDEX[call.method];
      if (index === undefined || index >= params.length) return call;
      params[index] = rewriteTag(params[index]);
    }
    return { ...call, params };
  };

  const count = (call: JsonRpcCall): void => {
    const method = typeof call.method === 'string' ? call.method : '(invalid)';
    methodCounts[method] = (methodCounts[method] ?? 0) + 1;
  };

  const forward = async (body: string, res: ServerResponse): Promise<void> => {
    let outgoing = body;
    let methods: unknown[] = [];
    try {
      const parsed = JSON.parse(body) as JsonRpcCall | JsonRpcCall[];
      const calls = Array.isArray(parsed) ? parsed : [parsed];
      calls.forEach(count);
      methods = calls.map((c) => c.method);
      if (labels.size > 0) outgoing = JSON.stringify(Array.isArray(parsed) ? calls.map(rewriteCall) : rewriteCall(parsed));
    } catch {
      // Not JSON: let the upstream node produce the proper JSON-RPC parse error.
    }

    if ((faults.failRate && random() < faults.failRate) || methods.some((m) => faults.failMethods?.includes(m as string))) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('injected failure');
      return;
    }
    if (faults.stallRate && random() < faults.stallRate) {
      await new Promise<void>((resolve) => {
        const release = (): void => {
          clearTimeout(timer);
          stalls.delete(release);
          resolve();
        };
        const timer = setTimeout(release, faults.stallMs ?? DEFAULT_STALL_MS);
        stalls.add(release);
      });
      if (res.destroyed) return;
    }

    try {
      const upstream = await fetch(upstreamUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: outgoing,
      });
      const text = await upstream.text();
      res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
      res.end(faults.logsLimit === undefined ? text : capLogs(body, text, faults.logsLimit));
    } catch (err) {
      if (!res.destroyed) res.writeHead(502, { 'content-type': 'text/plain' }).end(`upstream unreachable: ${(err as Error).message}`);
    }
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    httpCount++;
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST' }).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => void forward(Buffer.concat(chunks).toString('utf8'), res));
  };

  const server = createServer(handle);
  server.on('connection', (socket) => {
    if (faults.down) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  const destroySockets = (): void => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
  };

  return {
    url: `http://127.0.0.1:${port}`,
    setLabel(label, n) {
      if (n === null) labels.delete(label);
      else labels.set(label, n);
    },
    counts: () => ({ ...methodCounts }),
    httpRequests: () => httpCount,
    resetCounts() {
      methodCounts = {};
      httpCount = 0;
    },
    setFaults(next) {
      faults = { ...next };
      random = next.seed === undefined ? Math.random : mulberry32(next.seed);
      // Keep-alive connections would otherwise keep a "dead" node answering.
      if (faults.down) destroySockets();
    },
    stop() {
      destroySockets();
      for (const release of stalls) release();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** The upstream answer with every eth_getLogs result longer than `limit` replaced by the error a capped node gives. */
function capLogs(requestBody: string, answer: string, limit: number): string {
  let calls: JsonRpcCall | JsonRpcCall[];
  let replies: unknown;
  try {
    calls = JSON.parse(requestBody) as JsonRpcCall | JsonRpcCall[];
    replies = JSON.parse(answer);
  } catch {
    return answer;
  }
  const methods = new Map((Array.isArray(calls) ? calls : [calls]).map((c) => [(c as { id?: unknown }).id, c.method]));
  const cap = (reply: unknown): unknown => {
    const r = reply as { id?: unknown; result?: unknown };
    if (methods.get(r?.id) !== 'eth_getLogs' || !Array.isArray(r.result) || r.result.length <= limit) return reply;
    return { jsonrpc: '2.0', id: r.id, error: { code: -32005, message: `query returned more than ${limit} results` } };
  };
  return JSON.stringify(Array.isArray(replies) ? replies.map(cap) : cap(replies));
}
