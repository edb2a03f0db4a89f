import type { Hex } from 'viem';
import { endpointLabel } from './failsafe-admin.js';
import { type JsonRpcCallOptions, jsonRpcCall } from './json-rpc-call.js';

/**
 * op-supernode's read-only RPC, the optional second opinion on cross-safety (XMSG_SUPERNODE_RPCS; DESIGN.md §1).
 *
 * - `supernode_syncStatus()` → `eth.SuperNodeSyncStatusResponse`: `chains` (chain id → op-node SyncStatus, whose
 *   `safe_l2` is the cross-safe head once interop is active and `finalized_l2` the finalized one, each an L2BlockRef
 *   `{hash, number, parentHash, timestamp, l1origin, sequenceNumber}`), `chain_ids`, `current_l1`, `safe_timestamp`,
 *   `local_safe_timestamp`, `finalized_timestamp`.
 * - `superroot_atTimestamp(hexutil.Uint64)` → `eth.SuperRootAtTimestampResponse`: `current_l1`, `safe_timestamp`,
 *   `local_safe_timestamp`, `finalized_timestamp`, `chain_ids`, `optimistic_at_timestamp` (chain id →
 *   `{output: OutputResponse{version, outputRoot, blockRef, withdrawalStorageRoot, stateRoot}, required_l1}`), and
 *   `data` (`{verified_required_l1, super, super_root}`) only once every chain is verified at that timestamp.
 * Chain ids are map keys as op-service's eth.ChainID marshals them (decimal text; hex accepted too); numbers of
 * blocks and timestamps are plain JSON numbers (Go uint64), the timestamp parameter is hex.
 */

export interface BlockId {
  number: bigint;
  hash: Hex;
}

export interface SupernodeSyncStatus {
  /** Per chain: the cross-safe (`safe_l2`) and finalized (`finalized_l2`) heads. */
  chains: Map<number, { safe: BlockId; finalized: BlockId }>;
  safeTimestamp: bigint;
  finalizedTimestamp: bigint;
}

export interface SuperRootAt {
  /** The super root once verified at that timestamp; undefined while not every chain is (the response's `data` absent). */
  superRoot?: Hex;
  /** Per chain: the block the supernode would apply at that timestamp (`optimistic_at_timestamp[..].output.blockRef`). */
  optimistic: Map<number, BlockId>;
}

/** One op-supernode endpoint. `label` (`host:port`) is how logs, metrics and pages name it. */
export class SupernodeClient {
  readonly label: string;

  constructor(
    readonly url: string,
    private readonly options: JsonRpcCallOptions,
  ) {
    this.label = endpointLabel(url);
  }

  async syncStatus(): Promise<SupernodeSyncStatus> {
    return parseSyncStatus(await jsonRpcCall(this.url, 'supernode_syncStatus', [], this.options), `${this.label} supernode_syncStatus`);
  }

  async superRootAt(timestamp: bigint): Promise<SuperRootAt> {
    const raw = await jsonRpcCall(this.url, 'superroot_atTimestamp', [`0x${timestamp.toString(16)}`], this.options);
    return parseSuperRootAt(raw, `${this.label} superroot_atTimestamp`);
  }
}

export function parseSyncStatus(raw: unknown, where: string): SupernodeSyncStatus {
  const r = object(raw, where);
  const chains = new Map<number, { safe: BlockId; finalized: BlockId }>();
  for (const [key, status] of Object.entries(object(r.chains, `${where}: chains`))) {
    const s = object(status, `${where}: chains.${key}`);
    chains.set(chainIdKey(key, where), {
      safe: blockId(s.safe_l2, `${where}: chains.${key}.safe_l2`),
      finalized: blockId(s.finalized_l2, `${where}: chains.${key}.finalized_l2`),
    });
  }
  return {
    chains,
    safeTimestamp: uint(r.safe_timestamp, `${where}: safe_timestamp`),
    finalizedTimestamp: uint(r.finalized_timestamp, `${where}: finalized_timestamp`),
  };
}

export function parseSuperRootAt(raw: unknown, where: string): SuperRootAt {
  const r = object(raw, where);
  const optimistic = new Map<number, BlockId>();
  const byChain =
    r.optimistic_at_timestamp === null || r.optimistic_at_timestamp === undefined ? {} : object(r.optimistic_at_timestamp, where);
  for (const [key, entry] of Object.entries(byChain)) {
    const output = object(
      object(entry, `${where}: optimistic_at_timestamp.${key}`).output,
      `${where}: optimistic_at_timestamp.${key}.output`,
    );
    optimistic.set(chainIdKey(key, where), blockId(output.blockRef, `${where}: optimistic_at_timestamp.${key}.output.blockRef`));
  }
  if (r.data === undefined || r.data === null) return { optimistic };
  const superRoot = object(r.data, `${where}: data`).super_root;
  if (!isWord(superRoot)) throw new Error(`${where}: data.super_root is not a 32-byte hex string`);
  return { superRoot, optimistic };
}

/** What one supernode says of one executing block: its cross-safe head, and the block it has at that timestamp. */
export type SupernodeView =
  | {
      endpoint: string;
      ok: true;
      safeHead: bigint;
      /** The block is at or below the supernode's cross-safe head, and is the block the supernode has there. */
      crossSafe: boolean;
      /** The supernode's block of this chain at the executing block's timestamp, if it has one. */
      blockAtTimestamp?: BlockId;
      superRoot?: Hex;
    }
  | { endpoint: string; ok: false; error: string };

export interface ExecutingBlockRef {
  chainId: number;
  number: bigint;
  hash: Hex;
  timestamp: bigint;
}

/**
 * How long a violation page waits for a supernode's view, whatever XMSG_RPC_TIMEOUT_MS and the retries allow: the page
 * must not wait on an optional opinion. A supernode that takes the call and never answers (hung, or a black-holed
 * network) would otherwise hold the most urgent page for a timeout and its retry (20 s with the defaults).
 */
export const SECOND_OPINION_BUDGET_MS = 2000;

/**
 * Asks one supernode about one block, giving up after `budgetMs` (the call itself is left to its own timeout); never
 * throws (a page must go out whatever the supernode does).
 */
export async function askSupernode(
  client: SupernodeClient,
  block: ExecutingBlockRef,
  budgetMs = SECOND_OPINION_BUDGET_MS,
): Promise<SupernodeView> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<SupernodeView>((resolve) => {
    timer = setTimeout(resolve, budgetMs, { endpoint: client.label, ok: false, error: `no answer within ${budgetMs / 1000} s` });
  });
  try {
    return await Promise.race([viewOf(client, block), late]);
  } finally {
    clearTimeout(timer);
  }
}

async function viewOf(client: SupernodeClient, block: ExecutingBlockRef): Promise<SupernodeView> {
  try {
    const [status, atTimestamp] = await Promise.all([client.syncStatus(), client.superRootAt(block.timestamp)]);
    const heads = status.chains.get(block.chainId);
    if (!heads) return { endpoint: client.label, ok: false, error: `it does not follow chain ${block.chainId}` };
    const there = atTimestamp.optimistic.get(block.chainId);
    const sameBlock = !there || (there.number === block.number && there.hash.toLowerCase() === block.hash.toLowerCase());
    return {
      endpoint: client.label,
      ok: true,
      safeHead: heads.safe.number,
      crossSafe: block.number <= heads.safe.number && sameBlock,
      blockAtTimestamp: there,
      superRoot: atTimestamp.superRoot,
    };
  } catch (err) {
    return { endpoint: client.label, ok: false, error: (err as Error).message.split('\n')[0] ?? 'error' };
  }
}

/**
 * The second opinion as a violation page states it: what the node's `safe` label says (the block is at or below it:
 * that is why the violation was raised), what each supernode says, and, loudly, when they disagree.
 */
export function describeSecondOpinion(block: ExecutingBlockRef, nodeSafeHead: string | undefined, views: readonly SupernodeView[]): string {
  const node = `The node's \`safe\` label${nodeSafeHead ? ` (head ${nodeSafeHead})` : ''} says block ${block.number} is cross-safe.`;
  const lines = views.map((v) => {
    if (!v.ok) return `op-supernode ${v.endpoint} could not be asked: ${v.error}.`;
    const at = v.blockAtTimestamp
      ? ` At timestamp ${block.timestamp} it has block ${v.blockAtTimestamp.number} (${v.blockAtTimestamp.hash.slice(0, 10)}…)${
          v.blockAtTimestamp.hash.toLowerCase() === block.hash.toLowerCase() ? ', the same block' : ', NOT this block'
        }; super root ${v.superRoot ? `verified ${v.superRoot.slice(0, 10)}…` : 'not verified yet'}.`
      : '';
    return `op-supernode ${v.endpoint}: cross-safe head ${v.safeHead}, so block ${block.number} is ${v.crossSafe ? 'cross-safe' : 'NOT cross-safe'}.${at}`;
  });
  const answered = views.filter((v): v is Extract<SupernodeView, { ok: true }> => v.ok);
  const dissent = answered.filter((v) => !v.crossSafe).map((v) => v.endpoint);
  const verdict = !answered.length
    ? 'No supernode answered: only the node says so.'
    : dissent.length
      ? `⚠️ THEY DISAGREE: the node's safe label says cross-safe, ${dissent.join(', ')} says not. Suspect the node's safe label (op-node, op-geth) before the protocol; compare the two views of the block.`
      : 'The node and every supernode that answered agree: the block is cross-safe. Treat it as a consensus bug.';
  return [node, ...lines, verdict].join(' ');
}

/**
 * The supernodes' heads for the gauges, asked at most once per `cacheMs` whatever the scrape rate: `up` per endpoint,
 * and per chain the lowest cross-safe and finalized head among the supernodes that answered (the conservative view).
 */
export class SupernodeHeads {
  private cached?: { at: number; value: Promise<SupernodeHeadsReading> };

  constructor(
    private readonly clients: readonly SupernodeClient[],
    private readonly cacheMs: number,
  ) {}

  read(now = Date.now()): Promise<SupernodeHeadsReading> {
    if (!this.cached || now - this.cached.at >= this.cacheMs) this.cached = { at: now, value: this.ask() };
    return this.cached.value;
  }

  private async ask(): Promise<SupernodeHeadsReading> {
    const statuses = await Promise.all(this.clients.map((c) => c.syncStatus().catch(() => undefined)));
    const up = new Map(this.clients.map((c, i) => [c.label, statuses[i] !== undefined]));
    const heads = new Map<number, { safe: bigint; finalized: bigint }>();
    for (const status of statuses) {
      for (const [chainId, h] of status?.chains ?? []) {
        const seen = heads.get(chainId);
        heads.set(chainId, {
          safe: seen && seen.safe < h.safe.number ? seen.safe : h.safe.number,
          finalized: seen && seen.finalized < h.finalized.number ? seen.finalized : h.finalized.number,
        });
      }
    }
    return { up, heads };
  }
}

export interface SupernodeHeadsReading {
  up: Map<string, boolean>;
  heads: Map<number, { safe: bigint; finalized: bigint }>;
}

function object(v: unknown, where: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${where}: not an object`);
  return v as Record<string, unknown>;
}

function uint(v: unknown, where: string): bigint {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v === 'string' && /^(0x[0-9a-fA-F]+|\d+)$/.test(v)) return BigInt(v);
  throw new Error(`${where}: not an unsigned number`);
}

function blockId(v: unknown, where: string): BlockId {
  const b = object(v, where);
  if (!isWord(b.hash)) throw new Error(`${where}.hash: not a 32-byte hex string`);
  return { number: uint(b.number, `${where}.number`), hash: b.hash };
}

function chainIdKey(key: string, where: string): number {
  const id = /^0x[0-9a-fA-F]+$/.test(key) || /^\d+$/.test(key) ? Number(BigInt(key)) : Number.NaN;
  if (!Number.isSafeInteger(id)) throw new Error(`${where}: "${key}" is not a chain id`);
  return id;
}

const isWord = (v: unknown): v is Hex => typeof v === 'string' && /^0x[0-9a-fA-F]{64}$/.test(v);
