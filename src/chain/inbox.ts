import { type Address, decodeAbiParameters, getAddress, type Hex, parseAbi, parseAbiParameters, toEventSelector } from 'viem';
import { keccak256OfHex } from './keccak.js';

export const DEFAULT_INBOX_ADDRESS: Address = '0x4200000000000000000000000000000000000022';

/** The interop message identifier, as carried by an ExecutingMessage log. */
export interface Identifier {
  origin: Address;
  blockNumber: bigint;
  logIndex: bigint;
  timestamp: bigint;
  chainId: bigint;
}

export const inboxAbi = parseAbi([
  'struct Identifier { address origin; uint256 blockNumber; uint256 logIndex; uint256 timestamp; uint256 chainId; }',
  'event ExecutingMessage(bytes32 indexed msgHash, Identifier id)',
  'function validateMessage(Identifier _id, bytes32 _msgHash)',
]);

export const EXECUTING_MESSAGE_TOPIC: Hex = toEventSelector('ExecutingMessage(bytes32,(address,uint256,uint256,uint256,uint256))');

const identifierParams = parseAbiParameters('(address origin, uint256 blockNumber, uint256 logIndex, uint256 timestamp, uint256 chainId)');
const IDENTIFIER_DATA_BYTES = 5 * 32;

/** The fields of a raw log that decoding and the validity rules look at. */
export interface RawLog {
  address: Address;
  topics: readonly Hex[];
  data: Hex;
}

export type DecodeResult = { ok: true; msgHash: Hex; identifier: Identifier } | { ok: false; reason: string };

/**
 * Decodes an ExecutingMessage log strictly: exactly two topics, topic0 the event selector, and data that is
 * exactly one ABI-encoded Identifier. Anything else is a malformed log to skip, not to guess at.
 */
export function decodeExecutingLog(log: RawLog): DecodeResult {
  if (log.topics.length !== 2) return { ok: false, reason: `expected 2 topics, got ${log.topics.length}` };
  if (log.topics[0]?.toLowerCase() !== EXECUTING_MESSAGE_TOPIC) return { ok: false, reason: 'topic0 is not ExecutingMessage' };
  const dataBytes = (log.data.length - 2) / 2;
  if (dataBytes !== IDENTIFIER_DATA_BYTES) {
    return { ok: false, reason: `expected ${IDENTIFIER_DATA_BYTES} data bytes, got ${dataBytes}` };
  }
  try {
    const [id] = decodeAbiParameters(identifierParams, log.data);
    return {
      ok: true,
      msgHash: log.topics[1] as Hex,
      identifier: {
        origin: getAddress(id.origin),
        blockNumber: id.blockNumber,
        logIndex: id.logIndex,
        timestamp: id.timestamp,
        chainId: id.chainId,
      },
    };
  } catch (err) {
    return { ok: false, reason: `undecodable identifier: ${(err as Error).message.split('\n')[0]}` };
  }
}

/** The message payload of an initiating log is its topics followed by its data; its hash is the msgHash. */
export function messagePayloadHash(log: Pick<RawLog, 'topics' | 'data'>): Hex {
  return keccak256OfHex([...log.topics, log.data]);
}
