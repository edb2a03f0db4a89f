import { createHash } from 'node:crypto';
import type { Hex } from 'viem';

/**
 * Every Redis key xmsg writes, in one place, under one prefix (so tests and several deployments can share a Redis).
 * BullMQ queues live under the same prefix with their own queue names.
 */
export function keys(prefix: string) {
  return {
    message: (shortId: string) => `${prefix}:m:${shortId}`,
    /**
     * The msgHash index: 256 hashes, one per first byte of the msgHash; field = the next 8 bytes in hex (see
     * msgHashField), value = the short ids of the messages with that msgHash, comma-separated (usually one). A field
     * may, very rarely, be shared by two msgHashes: readers check each record's own msgHash.
     */
    msgHashBucket: (msgHash: Hex) => `${prefix}:h:${msgHash.toLowerCase().slice(2, 4)}`,
    /** Settled messages whose executing block is not cross-safe yet; score = executing block number. */
    pending: (chainId: number) => `${prefix}:pending:${chainId}`,
    /** Cross-safe messages waiting for both their blocks to be finalized; score = executing block number. */
    safe: (chainId: number) => `${prefix}:safe:${chainId}`,
    /** Tracked messages by the source block they point into; score = identifier block number. */
    bySource: (chainId: number) => `${prefix}:bysource:${chainId}`,
    /** Valid messages by promotion deadline; score = deadline in ms. */
    deadlines: (chainId: number) => `${prefix}:deadlines:${chainId}`,
    /** Dropped messages kept for a while for /api and /xmsg status; score = time to delete them, in ms. */
    expiring: `${prefix}:expiring`,
    /** Tracked message counts by "executingChain|initiatingChain|status", for the status gauge. */
    statusCounts: `${prefix}:stats:status`,
    cursor: (chainId: number) => `${prefix}:cursor:${chainId}`,
    /** Hashes of recently processed blocks, for walking back on a reorg; score = block number. */
    recentBlocks: (chainId: number) => `${prefix}:blocks:${chainId}`,
    heads: (chainId: number) => `${prefix}:heads:${chainId}`,
    health: (chainId: number) => `${prefix}:health:${chainId}`,
    lease: (chainId: number) => `${prefix}:lease:${chainId}`,
    /** The deployment marker (src/store/deployment.ts): `<id>|<createdAt>`, written once; gone means the state was lost. */
    deployment: `${prefix}:deployment`,
  };
}

export type Keys = ReturnType<typeof keys>;

/** The deterministic id of one executing message; also its BullMQ job id (no ':' and never a plain integer). */
export function messageId(chainId: number, blockHash: Hex, logIndex: number): string {
  return `${chainId}-${blockHash.toLowerCase()}-${logIndex}`;
}

/** The field of a msgHash in its bucket of the msgHash index (bytes 1..8 of it, hex). */
export function msgHashField(msgHash: Hex): string {
  return msgHash.toLowerCase().slice(4, 20);
}

/**
 * A compact handle for index members and record keys: 84 bits of the id's hash in 14 base64url characters (at most
 * 14 characters keep a sorted-set member in Redis's 16-byte allocation class: 16 B less per index entry than 20).
 */
export function shortId(id: string): string {
  // Node's native SHA-256, not keccak: this is only a handle (no chain ever sees it), and every check computes it.
  return createHash('sha256').update(id).digest('base64url').slice(0, 14);
}
