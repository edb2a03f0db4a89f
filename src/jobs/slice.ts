/**
 * The payload of a slice check job (docs/ARCHITECTURE.md §1): what the slice's messages share (their executing block,
 * when the watcher saw it) once, then each message's own fields as a short array. Every slice job is written to Redis,
 * read back by a checker and parsed: with every message a full MessageData object (its id, block hash and block
 * fields repeated in each, its access-list verdict an object), a slice of 500 was 309 KB of JSON; packed, 110 KB.
 *
 * Slices queued before this format carry `{ messages: CheckJobData[] }`; a checker still reads them (unpackSlice).
 */
import type { Hex } from 'viem';
import type { AccessListCheck } from '../chain/access-list.js';
import { messageId } from '../store/keys.js';
import type { MessageData } from '../store/record.js';

/** What every message of a slice shares. */
export interface SliceBlock {
  chainId: number;
  blockNumber: string;
  blockHash: Hex;
  blockTimestamp: string;
  /** When the watcher first saw the block's messages, ms since epoch. */
  seenAt: number;
}

/**
 * One message of a slice: its transaction, log index, msgHash, identifier (origin, block number, log index, timestamp,
 * chain id) and what its transaction's access list says of it: 0 when it declares it (nearly always), else the check.
 */
export type SliceMessage = [
  txHash: Hex,
  logIndex: number,
  msgHash: Hex,
  origin: Hex,
  idBlockNumber: string,
  idLogIndex: string,
  idTimestamp: string,
  idChainId: string,
  accessList: 0 | AccessListCheck,
];

export interface PackedSlice {
  block: SliceBlock;
  messages: SliceMessage[];
}

/** A message with what its transaction's access list says of it, as a slice carries it. */
export type SliceMessageData = MessageData & { accessList?: AccessListCheck };

/** A slice as queued before packing: each message whole. */
export interface LegacySlice {
  messages: SliceMessageData[];
}

/** What a message's slice shares with it. */
export function sliceBlockOf(data: MessageData): SliceBlock {
  return {
    chainId: data.chainId,
    blockNumber: data.blockNumber,
    blockHash: data.blockHash,
    blockTimestamp: data.blockTimestamp,
    seenAt: data.seenAt,
  };
}

/** One message packed for its slice; `data` must be in `block`. */
export function sliceMessage(data: MessageData, accessList: AccessListCheck): SliceMessage {
  const id = data.identifier;
  const check = accessList.verdict === 'declared' ? 0 : accessList;
  return [data.txHash, data.logIndex, data.msgHash, id.origin, id.blockNumber, id.logIndex, id.timestamp, id.chainId, check];
}

const DECLARED: AccessListCheck = { verdict: 'declared', reason: '' };

/** The slice's messages whole again, in order, each with its access-list verdict; a legacy slice as it is. */
export function unpackSlice(slice: PackedSlice | LegacySlice): SliceMessageData[] {
  if (!('block' in slice)) return slice.messages;
  const { chainId, blockNumber, blockHash, blockTimestamp, seenAt } = slice.block;
  return slice.messages.map(([txHash, logIndex, msgHash, origin, idBlockNumber, idLogIndex, idTimestamp, idChainId, check]) => ({
    id: messageId(chainId, blockHash, logIndex),
    chainId,
    blockNumber,
    blockHash,
    blockTimestamp,
    txHash,
    logIndex,
    msgHash,
    identifier: { origin, blockNumber: idBlockNumber, logIndex: idLogIndex, timestamp: idTimestamp, chainId: idChainId },
    seenAt,
    accessList: check === 0 ? DECLARED : check,
  }));
}
