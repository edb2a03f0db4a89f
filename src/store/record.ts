import { getAddress, type Hex } from 'viem';
import type { ValidityStatus } from '../chain/validity.js';
import { messageId } from './keys.js';

/** Where a tracked message's executing block stands. The last three end tracking. */
export type Safety = 'unsafe' | 'cross-safe' | 'replaced' | 'reorged' | 'finalized';

/** What the watcher knows of an executing message; never changes once seen. */
export interface MessageData {
  id: string;
  chainId: number;
  blockNumber: string;
  blockHash: Hex;
  blockTimestamp: string;
  txHash: Hex;
  logIndex: number;
  msgHash: Hex;
  identifier: { origin: Hex; blockNumber: string; logIndex: string; timestamp: string; chainId: string };
  /** When the watcher first saw it, ms since epoch. */
  seenAt: number;
}

export interface HistoryEntry {
  at: number;
  what: string;
}

export interface MessageRecord {
  data: MessageData;
  status: ValidityStatus;
  reason: string;
  safety: Safety;
  history: HistoryEntry[];
  marks: MessageMark[];
}

/** Facts remembered about a message besides its status, e.g. that it was reported unpromoted. */
export type MessageMark = 'unpromoted' | 'pending_timeout';

/**
 * The record layout. A message record is one Redis hash kept small enough for Redis's compact listpack encoding:
 * short field names, no field derivable from another (the id is chainId-blockHash-logIndex; the short id is the
 * key), 32-byte hashes and the origin address in base64url, and every value at most PIECE_BYTES bytes
 * (`hash-max-listpack-value`; one longer value would turn the whole hash into a hashtable, about 2.5 times the
 * memory): a longer value, such as a long reason or history note, is stored in pieces `name`, `name+1`, …
 *
 *   c chainId   n blockNumber   b blockHash   t blockTimestamp   x txHash   l logIndex   g msgHash   s seenAt
 *   o identifier.origin   in / il / it / ic identifier blockNumber / logIndex / timestamp / chainId
 *   st status   rs reason   sf safety   h1, h2, … history entries "<at ms>|<what>"   mk:<mark> marks
 *
 * The scripts in src/store/lua/ write records (they split values in pieces); this module packs what they are given
 * and parses what is read back.
 */
export const PIECE_BYTES = 64; // the Lua scripts' PIECE_BYTES (src/store/lua/includes/pieces.lua) must equal it

/** A history entry as stored: "<at ms>|<what>". */
export const historyEntry = (what: string, at = Date.now()) => `${at}|${what}`;

/**
 * `pack` remembering its last input and output: the records of a slice are written one after another, all with the
 * same block hash and mostly the same origin, whose packing (a regex, a checksum, two Buffer conversions) showed in
 * the bench's profile.
 */
function rememberingLast(pack: (v: string) => string): (v: string) => string {
  let lastIn: string | undefined;
  let lastOut = '';
  return (v) => {
    if (v !== lastIn) {
      lastOut = pack(v);
      lastIn = v;
    }
    return lastOut;
  };
}

/** A 0x-hex value as base64url of its bytes when that reads back exactly (lowercase, whole bytes), else `~` and the text. */
export function packHex(h: string): string {
  return /^0x(?:[0-9a-f]{2})+$/.test(h) ? Buffer.from(h.slice(2), 'hex').toString('base64url') : `~${h}`;
}

const packBlockHash = rememberingLast(packHex);

export function unpackHex(v: string): Hex {
  return (v.startsWith('~') ? v.slice(1) : `0x${Buffer.from(v, 'base64url').toString('hex')}`) as Hex;
}

/** An address as base64url of its bytes when it is in its checksum form (as decoded logs give it), else `~` and the text. */
export const packAddress = rememberingLast((a: string): string => {
  try {
    if (a.length === 42 && getAddress(a) === a) return Buffer.from(a.slice(2), 'hex').toString('base64url');
  } catch {
    // not an address: kept as it is
  }
  return `~${a}`;
});

export function unpackAddress(v: string): Hex {
  return v.startsWith('~') ? (v.slice(1) as Hex) : getAddress(`0x${Buffer.from(v, 'base64url').toString('hex')}`);
}

/** The record fields of a message's data (see the layout above), as field/value pairs. */
export function dataFields(d: MessageData): string[] {
  const id = d.identifier;
  return [
    ...['c', String(d.chainId), 'n', d.blockNumber, 'b', packBlockHash(d.blockHash), 't', d.blockTimestamp],
    ...['x', packHex(d.txHash), 'l', String(d.logIndex), 'g', packHex(d.msgHash), 'o', packAddress(id.origin)],
    ...['in', id.blockNumber, 'il', id.logIndex, 'it', id.timestamp, 'ic', id.chainId, 's', String(d.seenAt)],
  ];
}

/** A record hash read back: pieces of long values joined (as bytes, then decoded), the data rebuilt. */
export function parseRecord(raw: Record<string, Buffer> | null): MessageRecord | undefined {
  if (!raw) return undefined;
  const text = joinPieces(raw);
  const st = text('st');
  const c = text('c');
  if (st === undefined || c === undefined) return undefined;
  const req = (name: string) => text(name) ?? '';
  const chainId = Number(c);
  const blockHash = unpackHex(req('b'));
  const logIndex = Number(req('l'));
  return {
    data: {
      id: messageId(chainId, blockHash, logIndex),
      chainId,
      blockNumber: req('n'),
      blockHash,
      blockTimestamp: req('t'),
      txHash: unpackHex(req('x')),
      logIndex,
      msgHash: unpackHex(req('g')),
      identifier: {
        origin: unpackAddress(req('o')),
        blockNumber: req('in'),
        logIndex: req('il'),
        timestamp: req('it'),
        chainId: req('ic'),
      },
      seenAt: Number(req('s')),
    },
    status: st as ValidityStatus,
    reason: req('rs'),
    safety: req('sf') as Safety,
    history: historyOf(text),
    marks: Object.keys(raw)
      .filter((k) => k.startsWith('mk:'))
      .map((k) => k.slice(3) as MessageMark),
  };
}

/** The text of each field name, its pieces `name`, `name+1`, … joined as bytes before decoding (a piece may end mid-character). */
function joinPieces(raw: Record<string, Buffer>): (name: string) => string | undefined {
  const parts = new Map<string, Buffer[]>();
  for (const [field, value] of Object.entries(raw)) {
    const plus = field.indexOf('+');
    const name = plus < 0 ? field : field.slice(0, plus);
    const list = parts.get(name) ?? [];
    list[plus < 0 ? 0 : Number(field.slice(plus + 1))] = value;
    parts.set(name, list);
  }
  return (name) => {
    const list = parts.get(name);
    return list ? Buffer.concat(list.filter((b) => b !== undefined)).toString('utf8') : undefined;
  };
}

function historyOf(text: (name: string) => string | undefined): HistoryEntry[] {
  const history: HistoryEntry[] = [];
  for (let n = 1; ; n++) {
    const e = text(`h${n}`);
    if (e === undefined) return history;
    const bar = e.indexOf('|');
    history.push({ at: Number(e.slice(0, bar)), what: e.slice(bar + 1) });
  }
}
