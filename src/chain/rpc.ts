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
  RpcRequestError,
  TimeoutError,
} from 'viem';
import { firstLine, safeUrl, scrubSecrets } from '../errors.js';
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

/**
 * A failed call to a chain's node, told without what viem's error text carries: the URL (hosted endpoints keep their
 * API key in its path or query) and the request body. Names the method, the endpoint as `safeUrl` shows it, and
 * what went wrong (HTTP status, JSON-RPC code and the node's message, a timeout). Whether a smaller eth_getLogs range
 * could help is decided from the original error, before it is dropped.
 */
export class RpcFailure extends Error {
  override name = 'RpcFailure';
  constructor(
    readonly method: string,
    readonly endpoint: string,
    readonly reason: string,
    readonly rangeRefused: boolean,
  ) {
    super(`${method} on ${endpoint}: ${reason}`);
  }
}

/** The node answers for another chain than the one configured: nothing it says may be used for this chain. */
export class WrongChain extends Error {
  override name = 'WrongChain';
  constructor(
    readonly expected: number,
    readonly answered: number,
    endpoint: string,
  ) {
    super(`${endpoint} answers eth_chainId ${answered}, not chain ${expected}`);
  }
}

/**
 * JSON-RPC errors about the caller's request rate, not the range: Infura's "project ID request rate exceeded" shares
 * -32005 with its result cap, Alchemy answers 429 "exceeded its compute units per second capacity" in the body.
 */
const RATE_LIMITED = /rate|too many requests|capacity|credits|quota|daily request|throughput/i;
/** JSON-RPC codes no smaller range helps with: method not found (-32601), method not supported (-32004), 429 in the body. */
const NOT_ABOUT_THE_RANGE = new Set([-32601, -32004, 429]);

/**
 * What a smaller eth_getLogs range could help with, as opposed to a node that is down or overloaded. Any JSON-RPC
 * error answer counts except rate limits: providers refuse ranges with many codes and words, and viem maps only
 * some codes to an RpcError class (the rest stay RpcRequestError). Seen in the wild: geth and Infura -32005 "query
 * returned more than 10000 results", Infura -32602 "range 1000000 exceeds limit of 10000", Alchemy -32602 "Log
 * response size exceeded…" and -32600 "…up to a 500 block range", reth -32602 "query exceeds max block range 5000"
 * and "query exceeds max results 20000, retry with the range …", erigon -32005 "block range too large", QuickNode
 * -32614 "eth_getLogs is limited to a 10,000 range" (with HTTP 413), BlockPI -32603 "eth_getLogs range is too large"
 * and 35 "ranges over 10000 blocks are not supported", op-geth forks -32000 "block range is bigger than maxBlockRange".
 */
export function refusesRange(err: unknown): boolean {
  if (err instanceof RpcFailure) return err.rangeRefused;
  if (!(err instanceof BaseError)) return false;
  // 413: the request or answer is too large for a proxy in front of the node; 504: it gave up waiting for the answer.
  const status = httpStatusOf(err);
  if (status === 413 || status === 504) return true;
  // Overloaded, rate-limited or down, whatever the body says: the same range is asked again after a pause.
  if (status !== undefined && (status === 429 || status >= 500)) return false;
  if (err.walk((e) => e instanceof TimeoutError || e instanceof ResponseBodyTooLargeError)) return true;
  const answered = err.walk((e) => e instanceof RpcError || e instanceof RpcRequestError) as RpcError | RpcRequestError | null;
  if (!answered) return false;
  return !NOT_ABOUT_THE_RANGE.has(answered.code) && !RATE_LIMITED.test(answered.details);
}

/** The HTTP status of the answer that failed, when there was one (viem keeps it on the error or its cause). */
function httpStatusOf(err: BaseError): number | undefined {
  const found = err.walk((e) => typeof (e as { status?: unknown }).status === 'number') as { status?: number } | null;
  return found?.status;
}

/** One line on what went wrong, from a viem error, without its URL and request body (the text is scrubbed too). */
function reasonOf(err: unknown): string {
  if (!(err instanceof BaseError)) return scrubSecrets(firstLine(err));
  const timeout = err.walk((e) => e instanceof TimeoutError);
  if (timeout) return 'no answer within the timeout';
  const tooLarge = err.walk((e) => e instanceof ResponseBodyTooLargeError);
  if (tooLarge) return scrubSecrets((tooLarge as BaseError).shortMessage);
  const status = httpStatusOf(err);
  const http = status === undefined ? '' : `HTTP ${status}: `;
  const answered = err.walk((e) => e instanceof RpcError || e instanceof RpcRequestError) as RpcError | RpcRequestError | null;
  if (answered) return cut(`${http}JSON-RPC error ${answered.code}: ${answered.details}`);
  const request = err.walk((e) => e instanceof HttpRequestError) as HttpRequestError | null;
  if (request) {
    // No answer at all: fetch's own error and its cause (ECONNREFUSED, ENOTFOUND, a TLS problem) say why.
    const cause = request.cause as (Error & { cause?: { code?: string; message?: string } }) | undefined;
    const why = cause?.cause?.code ?? cause?.cause?.message;
    if (status === undefined && cause) return cut(`no answer: ${firstLine(cause)}${why ? ` (${why})` : ''}`);
    return cut(`${http}${unquoted(request.details)}`);
  }
  return cut(err.shortMessage);
}

/** viem gives a plain-text answer's body as a JSON string. */
function unquoted(details: string): string {
  try {
    const parsed: unknown = JSON.parse(details);
    return typeof parsed === 'string' ? parsed : details;
  } catch {
    return details;
  }
}

/** Scrubbed and at most 300 characters: a node or a proxy may answer with a whole HTML page. */
const cut = (text: string) => {
  const line = scrubSecrets(text.replace(/\s+/g, ' ').trim());
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
};

/** A call to the node whose failure is an RpcFailure (a WrongChain or an answer xmsg finds malformed goes as it is). */
async function guarded<T>(method: string, url: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (!(err instanceof BaseError)) throw err;
    throw new RpcFailure(method, safeUrl(url), reasonOf(err), refusesRange(err));
  }
}

/**
 * The RPC surface xmsg needs from one chain. Calls made in the same tick go out as one JSON-RPC batch, except
 * eth_getLogs: its answers can be large, so each goes alone (batched together they could pass any size limit).
 * Failed HTTP requests are retried with exponential backoff (retryDelay, 2x, 4x, ...), by viem except for ranges of
 * logs (see logsInRange). Every failure is an RpcFailure, whose text never holds the URL beyond its host.
 *
 * A chain declared as `<chain id>=<url>` may have started without its node answering: until the node has answered
 * eth_chainId with this chain's id, every call asks it first, and fails with WrongChain while it answers another.
 */
export class ChainRpc {
  private readonly client: PublicClient;
  /** The same endpoint without batching, for eth_getLogs. */
  private readonly logsClient: PublicClient;
  /** The same without viem's retries: a range the node refuses is split at once, not asked for again. */
  private readonly rangeLogsClient: PublicClient;
  /** Batched in small batches, with the large answer limit: for blocks read with their transactions. */
  private readonly fullBlocksClient: PublicClient;
  /** The node answered this chain's id (always so for a chain whose id was read from its node at start). */
  private chainIdConfirmed: boolean;
  private confirming?: Promise<void>;

  constructor(
    readonly chainId: number,
    private readonly url: string,
    private readonly options: RpcOptions,
    metrics?: Metrics,
    { confirmChainId = false }: { confirmChainId?: boolean } = {},
  ) {
    this.chainIdConfirmed = !confirmChainId;
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

  /** The endpoint as logs and errors show it: scheme, host and port. */
  get endpoint(): string {
    return safeUrl(this.url);
  }

  /**
   * Asks the node its chain id now (batched with calls of the same tick). Throws WrongChain when it answers another
   * chain's, and from then on every call fails so until it answers this chain's again.
   */
  async checkChainId(): Promise<void> {
    const answered = Number(await this.call('eth_chainId', () => this.client.request({ method: 'eth_chainId' })));
    this.chainIdConfirmed = answered === this.chainId;
    if (!this.chainIdConfirmed) throw new WrongChain(this.chainId, answered, this.endpoint);
  }

  async blockNumber(): Promise<bigint> {
    return BigInt(await this.call('eth_blockNumber', () => this.client.request({ method: 'eth_blockNumber' })));
  }

  /** The header at a label or number; `undefined` when the node has no such block (yet). */
  async header(block: BlockLabel | bigint): Promise<BlockHeader | undefined> {
    const tag = typeof block === 'bigint' ? numberToHex(block) : block;
    const raw = await this.call('eth_getBlockByNumber', () =>
      this.client.request({ method: 'eth_getBlockByNumber', params: [tag, false] }),
    );
    if (!raw || raw.number === null || raw.hash === null) return undefined;
    return { number: BigInt(raw.number), hash: raw.hash, parentHash: raw.parentHash, timestamp: BigInt(raw.timestamp) };
  }

  async headerByHash(hash: Hex): Promise<BlockHeader | undefined> {
    const raw = await this.call('eth_getBlockByHash', () => this.client.request({ method: 'eth_getBlockByHash', params: [hash, false] }));
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
        const raw = (await this.call('eth_getLogs', () =>
          this.rangeLogsClient.request({ method: 'eth_getLogs', params: [filter] }),
        )) as unknown as RawRpcLog[];
        return raw.filter((l) => !l.removed).map(toChainLog);
      } catch (err) {
        if (refusesRange(err)) throw new LogRangeRefused(`eth_getLogs ${fromBlock}..${toBlock}: ${firstLine(err)}`, { cause: err });
        if (attempt >= this.options.retries) throw err;
        await delay(this.options.retryDelayMs * 2 ** attempt);
      }
    }
  }

  /** The logs of a mined transaction; `undefined` when this chain does not know the transaction. */
  async transactionLogs(txHash: Hex): Promise<ChainLog[] | undefined> {
    const receipt = (await this.call('eth_getTransactionReceipt', () =>
      this.client.request({ method: 'eth_getTransactionReceipt', params: [txHash] }),
    )) as unknown as { logs: RawRpcLog[] } | null;
    return receipt ? receipt.logs.map(toChainLog) : undefined;
  }

  /**
   * The transactions of one block with their access lists, by hash (so the answer is about exactly that block even
   * during a reorg); `undefined` when the node does not have the block. Calls made in the same tick share batches of
   * FULL_BLOCKS_PER_BATCH.
   */
  async blockTransactions(blockHash: Hex): Promise<TransactionAccess[] | undefined> {
    const raw: unknown = await this.call('eth_getBlockByHash', () =>
      this.fullBlocksClient.request({ method: 'eth_getBlockByHash', params: [blockHash, true] }),
    );
    if (raw === null) return undefined;
    const where = `eth_getBlockByHash(${blockHash}, true)`;
    const transactions = (raw as { transactions?: unknown }).transactions;
    if (!Array.isArray(transactions)) throw new Error(`${where}: the answer has no transactions list`);
    return transactions.map((tx, i) => toTransactionAccess(tx, `${where}, transaction ${i}`));
  }

  /** One mined transaction with its access list; `undefined` when the node does not know it or it is not mined yet. */
  async transactionAccess(txHash: Hex): Promise<TransactionAccess | undefined> {
    const raw: unknown = await this.call('eth_getTransactionByHash', () =>
      this.client.request({ method: 'eth_getTransactionByHash', params: [txHash] }),
    );
    if (raw === null || (raw as { blockHash?: unknown }).blockHash === null) return undefined;
    return toTransactionAccess(raw, `eth_getTransactionByHash(${txHash})`);
  }

  /** Every log of one block, by hash, so the answer is about exactly that block even during a reorg. */
  async logsOfBlock(blockHash: Hex): Promise<ChainLog[]> {
    const raw = (await this.call('eth_getLogs', () =>
      this.logsClient.request({ method: 'eth_getLogs', params: [{ blockHash }] }),
    )) as unknown as RawRpcLog[];
    return raw.filter((l) => !l.removed).map(toChainLog);
  }

  /** One request, once the node is known to be this chain's; its failure an RpcFailure. */
  private async call<T>(method: string, request: () => Promise<T>): Promise<T> {
    if (!this.chainIdConfirmed && method !== 'eth_chainId') {
      // Concurrent calls share one question.
      this.confirming ??= this.checkChainId().finally(() => {
        this.confirming = undefined;
      });
      await this.confirming;
    }
    return guarded(method, this.url, request);
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

/**
 * One eth_chainId question, as configuration checking asks it (`loadConfig` retries it with backoff up to
 * XMSG_STARTUP_RPC_WAIT_S); a failure is an RpcFailure.
 */
export async function probeChainId(url: string, timeoutMs = 5000): Promise<number> {
  const client = createPublicClient({ transport: http(url, { retryCount: 0, timeout: timeoutMs }) });
  return guarded('eth_chainId', url, () => client.getChainId());
}
