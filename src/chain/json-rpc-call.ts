import { setTimeout as delay } from 'node:timers/promises';
import { endpointLabel } from './failsafe-admin.js';

/**
 * One JSON-RPC call to a service that is not a chain (op-supernode, op-interop-filter): plain HTTP POST, the RPC
 * client's timeout and retries (XMSG_RPC_*). Errors name the endpoint by `host:port` only (`endpointLabel`): the URL
 * may carry a credential.
 */
export interface JsonRpcCallOptions {
  timeoutMs: number;
  /** Further attempts after a failed HTTP request (never after a JSON-RPC error: the service answered). */
  retries: number;
  retryDelayMs: number;
}

/** The service answered with a JSON-RPC error object: its answer, not a transport failure. */
export class JsonRpcAnswerError extends Error {
  constructor(
    readonly code: number,
    readonly rpcMessage: string,
    where: string,
  ) {
    super(`${where}: ${rpcMessage} (${code})`);
    this.name = 'JsonRpcAnswerError';
  }
}

/** No usable answer: connection refused, timeout, an HTTP error status, or a body that is not a JSON-RPC answer. */
export class JsonRpcUnreachable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JsonRpcUnreachable';
  }
}

let nextId = 0;

export async function jsonRpcCall(url: string, method: string, params: unknown[], options: JsonRpcCallOptions): Promise<unknown> {
  const where = `${endpointLabel(url)} ${method}`;
  for (let attempt = 0; ; attempt++) {
    try {
      return await callOnce(url, method, params, options.timeoutMs, where);
    } catch (err) {
      if (err instanceof JsonRpcAnswerError || attempt >= options.retries) throw err;
      await delay(options.retryDelayMs * 2 ** attempt);
    }
  }
}

async function callOnce(url: string, method: string, params: unknown[], timeoutMs: number, where: string): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: ++nextId, method, params }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
    throw new JsonRpcUnreachable(`${where}: no answer (${cause})`);
  }
  const text = await res.text().catch(() => '');
  let body: { result?: unknown; error?: { code?: unknown; message?: unknown } } | undefined;
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    body = undefined;
  }
  // op-service's RPC server answers a JSON-RPC error with HTTP 200; a proxy may use another status with the same body.
  if (body?.error && typeof body.error.code === 'number')
    throw new JsonRpcAnswerError(body.error.code, String(body.error.message ?? 'error'), where);
  if (!res.ok) throw new JsonRpcUnreachable(`${where}: HTTP ${res.status}`);
  if (!body || typeof body !== 'object' || !('result' in body))
    throw new JsonRpcUnreachable(`${where}: the answer is not a JSON-RPC result`);
  return body.result;
}
