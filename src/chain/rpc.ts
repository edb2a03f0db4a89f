import { setTimeout as delay } from 'node:timers/promises';
import {
  type AccessList,
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

/** A mined transaction as the access-list check needs it; `accessList` is undefined for types without one (legacy, deposits). */
export interface TransactionAccess {
  hash: Hex;
  blockHash: Hex;
  accessList: AccessList | undefined;
}

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
 * Full blocks (with their transactions) per JSON-RPC batch: a block packed with executing messages is a few hundred
 * KB, so a batch stays far below the answer limit above while a range's blocks still go out in few HTTP requests.
 */
const FULL_BLOCKS_PER_BATCH = 16;

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
  /** Batched in small batches, with the large answer limit: for blocks read with their transactions. */
  private readonly fullBlocksClient: PublicClient;

  constructor(
    readonly chainId: number,
    readonly url: string,
    private readonly options: RpcOptions,
    metrics?: Metrics,
  ) {
    const label = String(chainId);
    const transport = (batch: boolean, retries = options.retries, batchSize = 500) =>
      http(url, {
        batch: batch ? { batchSize, wait: 0 } : false,
        ...(batch && batchSize === 500 ? {} : { maxResponseBodySize: MAX_LOGS_RESPONSE_BYTES }),
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
    this.fullBlocksClient = createPublicClient({ transport: transport(true, options.retries, FULL_BLOCKS_PER_BATCH) });
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

  /**
   * The transactions of one block with their access lists, by hash (so the answer is about exactly that block even
   * during a reorg); `undefined` when the node does not have the block. Calls made in the same tick share batches of
   * FULL_BLOCKS_PER_BATCH.
   */
  async blockTransactions(blockHash: Hex): Promise<TransactionAccess[] | undefined> {
    const raw: unknown = await this.fullBlocksClient.request({ method: 'eth_getBlockByHash', params: [blockHash, true] });
    if (raw === null) return undefined;
    const where = `eth_getBlockByHash(${blockHash}, true)`;
    const transactions = (raw as { transactions?: unknown }).transactions;
    if (!Array.isArray(transactions)) throw new Error(`${where}: the answer has no transactions list`);
    return transactions.map((tx, i) => toTransactionAccess(tx, `${where}, transaction ${i}`));
  }

  /** One mined transaction with its access list; `undefined` when the node does not know it or it is not mined yet. */
  async transactionAccess(txHash: Hex): Promise<TransactionAccess | undefined> {
    const raw: unknown = await this.client.request({ method: 'eth_getTransactionByHash', params: [txHash] });
    if (raw === null || (raw as { blockHash?: unknown }).blockHash === null) return undefined;
    return toTransactionAccess(raw, `eth_getTransactionByHash(${txHash})`);
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

/**
 * Checks the fields the access-list check reads, so a node's malformed answer is a clear error rather than a wrong
 * verdict. The storage keys themselves are checked by the access-list parser, which names a bad one in its verdict.
 */
function toTransactionAccess(raw: unknown, where: string): TransactionAccess {
  const tx = raw as { hash?: unknown; blockHash?: unknown; accessList?: unknown } | null;
  if (typeof tx === 'string') throw new Error(`${where}: a transaction hash, not the transaction with its access list`);
  if (typeof tx !== 'object' || tx === null) throw new Error(`${where}: not a transaction object`);
  if (!isWord(tx.hash)) throw new Error(`${where}: no transaction hash`);
  if (!isWord(tx.blockHash)) throw new Error(`${where}: no block hash`);
  if (tx.accessList === undefined || tx.accessList === null) return { hash: tx.hash, blockHash: tx.blockHash, accessList: undefined };
  if (!Array.isArray(tx.accessList)) throw new Error(`${where}: accessList is not a list`);
  const accessList: AccessList = tx.accessList.map((item: unknown, i) => {
    const { address, storageKeys } = (item ?? {}) as { address?: unknown; storageKeys?: unknown };
    if (typeof address !== 'string' || !Array.isArray(storageKeys) || storageKeys.some((k) => typeof k !== 'string')) {
      throw new Error(`${where}: access list item ${i} is not an address with a list of storage keys`);
    }
    return { address: address as Address, storageKeys: storageKeys as Hex[] };
  });
  return { hash: tx.hash, blockHash: tx.blockHash, accessList };
}

const isWord = (v: unknown): v is Hex => typeof v === 'string' && /^0x[0-9a-fA-F]{64}$/.test(v);

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
