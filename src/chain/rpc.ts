import { setTimeout as delay } from 'node:timers/promises';
import {
  type Address,
  BaseError,
  createPublicClient,
  type Hex,
  HttpRequestError,
  http,
  numberToHex,
  type PublicClient,
  ResponseBodyTooLargeError,
  RpcError,
  TimeoutError,
} from 'viem';
import type { Metrics } from '../metrics.js';

export interface BlockHeader {
  number: bigint;
  hash: Hex;
  parentHash: Hex;
  timestamp: bigint;
}

export interface ChainLog {
  address: Address;
  topics: Hex[];
  data: Hex;
  blockNumber: bigint;
  blockHash: Hex;
  logIndex: bigint;
  transactionHash: Hex;
}

export type BlockLabel = 'latest' | 'safe' | 'finalized';

export interface RpcOptions {
  retries: number;
  retryDelayMs: number;
  timeoutMs: number;
}

interface RawRpcLog {
  address: Address;
  topics: Hex[];
  data: Hex;
  blockNumber: Hex;
  blockHash: Hex;
  logIndex: Hex;
  transactionHash: Hex;
  removed?: boolean;
}

/** Largest eth_getLogs answer read (viem's default, 10 MiB, is about 16,000 logs); the watcher splits a range past it. */
const MAX_LOGS_RESPONSE_BYTES = 128 * 1024 * 1024;

/**
 * The node would not give the logs of this block range in one answer: it answered with a JSON-RPC error (a result
 * or range cap such as "query returned more than 10000 results"), took longer than the timeout, or sent more than
 * can be read. A smaller range may work; the same range again would not.
 */
export class LogRangeRefused extends Error {}

/** What a smaller eth_getLogs range could help with, as opposed to a node that is down or overloaded. */
export function refusesRange(err: unknown): boolean {
  const found =
    err instanceof BaseError
      ? err.walk(
          (e) =>
            e instanceof RpcError || e instanceof TimeoutError || e instanceof ResponseBodyTooLargeError || e instanceof HttpRequestError,
        )
      : err;
  if (found instanceof RpcError || found instanceof TimeoutError || found instanceof ResponseBodyTooLargeError) return true;
  // 413: the request or answer is too large for a proxy in front of the node; 504: it gave up waiting for the answer.
  return found instanceof HttpRequestError && (found.status === 413 || found.status === 504);
}

/**
 * The RPC surface xmsg needs from one chain. Calls made in the same tick go out as one JSON-RPC batch, except
 * eth_getLogs: its answers can be large, so each goes alone (batched together they could pass any size limit).
 * Failed HTTP requests are retried with exponential backoff (retryDelay, 2x, 4x, ...), by viem except for ranges of
 * logs (see logsInRange).
 */
export class ChainRpc {
  readonly client: PublicClient;
  /** The same endpoint without batching, for eth_getLogs. */
  private readonly logsClient: PublicClient;
  /** The same without viem's retries: a range the node refuses is split at once, not asked for again. */
  private readonly rangeLogsClient: PublicClient;

  constructor(
    readonly chainId: number,
    readonly url: string,
    private readonly options: RpcOptions,
    metrics?: Metrics,
  ) {
    const label = String(chainId);
    const transport = (batch: boolean, retries = options.retries) =>
      http(url, {
        batch: batch ? { batchSize: 500, wait: 0 } : false,
        ...(batch ? {} : { maxResponseBodySize: MAX_LOGS_RESPONSE_BYTES }),
        retryCount: retries,
        retryDelay: options.retryDelayMs,
        timeout: options.timeoutMs,
        onFetchRequest: metrics
          ? (_request, init) => {
              for (const method of methodsOf(init.body)) metrics.rpcRequests.inc({ chain_id: label, method });
            }
          : undefined,
        onFetchResponse: metrics
          ? (response) => {
              if (!response.ok) metrics.rpcErrors.inc({ chain_id: label });
            }
          : undefined,
      });
    this.client = createPublicClient({ transport: transport(true) });
    this.logsClient = createPublicClient({ transport: transport(false) });
    this.rangeLogsClient = createPublicClient({ transport: transport(false, 0) });
  }

  async blockNumber(): Promise<bigint> {
    return BigInt(await this.client.request({ method: 'eth_blockNumber' }));
  }

  /** The header at a label or number; `undefined` when the node has no such block (yet). */
  async header(block: BlockLabel | bigint): Promise<BlockHeader | undefined> {
    const tag = typeof block === 'bigint' ? numberToHex(block) : block;
    const raw = await this.client.request({ method: 'eth_getBlockByNumber', params: [tag, false] });
    if (!raw || raw.number === null || raw.hash === null) return undefined;
    return { number: BigInt(raw.number), hash: raw.hash, parentHash: raw.parentHash, timestamp: BigInt(raw.timestamp) };
  }

  async headerByHash(hash: Hex): Promise<BlockHeader | undefined> {
    const raw = await this.client.request({ method: 'eth_getBlockByHash', params: [hash, false] });
    if (!raw || raw.number === null || raw.hash === null) return undefined;
    return { number: BigInt(raw.number), hash: raw.hash, parentHash: raw.parentHash, timestamp: BigInt(raw.timestamp) };
  }

  /**
   * Logs of one address matching leading topics (e.g. [topic0] or [topic0, topic1]) over an inclusive block range.
   * Throws LogRangeRefused at once when a smaller range could help; other failures (node down, 5xx, 429) are
   * retried with exponential backoff first.
   */
  async logsInRange(address: Address, topics: Hex[], fromBlock: bigint, toBlock: bigint): Promise<ChainLog[]> {
    const filter = { address, topics, fromBlock: numberToHex(fromBlock), toBlock: numberToHex(toBlock) };
    for (let attempt = 0; ; attempt++) {
      try {
        const raw = (await this.rangeLogsClient.request({ method: 'eth_getLogs', params: [filter] })) as unknown as RawRpcLog[];
        return raw.filter((l) => !l.removed).map(toChainLog);
      } catch (err) {
        if (refusesRange(err))
          throw new LogRangeRefused(`eth_getLogs ${fromBlock}..${toBlock}: ${(err as Error).message.split('\n')[0]}`, { cause: err });
        if (attempt >= this.options.retries) throw err;
        await delay(this.options.retryDelayMs * 2 ** attempt);
      }
    }
  }

  /** The logs of a mined transaction; `undefined` when this chain does not know the transaction. */
  async transactionLogs(txHash: Hex): Promise<ChainLog[] | undefined> {
    const receipt = (await this.client.request({ method: 'eth_getTransactionReceipt', params: [txHash] })) as unknown as {
      logs: RawRpcLog[];
    } | null;
    return receipt ? receipt.logs.map(toChainLog) : undefined;
  }

  /** Every log of one block, by hash, so the answer is about exactly that block even during a reorg. */
  async logsOfBlock(blockHash: Hex): Promise<ChainLog[]> {
    const raw = (await this.logsClient.request({
      method: 'eth_getLogs',
      params: [{ blockHash }],
    })) as unknown as RawRpcLog[];
    return raw.filter((l) => !l.removed).map(toChainLog);
  }
}

function toChainLog(l: RawRpcLog): ChainLog {
  return {
    address: l.address,
    topics: l.topics,
    data: l.data,
    blockNumber: BigInt(l.blockNumber),
    blockHash: l.blockHash,
    logIndex: BigInt(l.logIndex),
    transactionHash: l.transactionHash,
  };
}

function methodsOf(body: RequestInit['body']): string[] {
  if (typeof body !== 'string') return ['unknown'];
  try {
    const parsed: unknown = JSON.parse(body);
    const calls = Array.isArray(parsed) ? parsed : [parsed];
    return calls.map((c) => (typeof c?.method === 'string' ? c.method : 'unknown'));
  } catch {
    return ['unknown'];
  }
}

/** A one-off eth_chainId probe used while validating configuration (no retries: a wrong URL should fail fast). */
export async function probeChainId(url: string, timeoutMs = 5000): Promise<number> {
  const client = createPublicClient({ transport: http(url, { retryCount: 1, timeout: timeoutMs }) });
  return client.getChainId();
}
