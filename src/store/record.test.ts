import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { messageId } from './keys.js';
import {
  dataFields,
  historyEntry,
  type MessageData,
  PIECE_BYTES,
  packAddress,
  packHex,
  parseRecord,
  unpackAddress,
  unpackHex,
} from './record.js';

const blockHash = `0x${'ab'.repeat(32)}` as const;
const data: MessageData = {
  id: messageId(901, blockHash, 7),
  chainId: 901,
  blockNumber: '1234',
  blockHash,
  blockTimestamp: '1700000000',
  txHash: `0x${'cd'.repeat(32)}`,
  logIndex: 7,
  msgHash: `0x${'0f'.repeat(32)}`,
  identifier: {
    origin: '0x00000000000000000000000000000000000E4170',
    blockNumber: '99',
    logIndex: '3',
    timestamp: '1699999999',
    chainId: '902',
  },
  seenAt: 1_700_000_000_123,
};

/** A record hash as the Lua scripts write it: every value split in PIECE_BYTES-byte pieces `name`, `name+1`, … */
function storedHash(fields: string[]): Record<string, Buffer> {
  const hash: Record<string, Buffer> = {};
  for (let i = 0; i < fields.length; i += 2) {
    const value = Buffer.from(fields[i + 1]!, 'utf8');
    for (let p = 0; p === 0 || p * PIECE_BYTES < value.length; p++) {
      hash[p === 0 ? fields[i]! : `${fields[i]}+${p}`] = value.subarray(p * PIECE_BYTES, (p + 1) * PIECE_BYTES);
    }
  }
  return hash;
}

const recordFields = (extra: string[] = []) => [
  ...dataFields(data),
  'st',
  'valid',
  'rs',
  'ok',
  'sf',
  'unsafe',
  'h1',
  historyEntry('seen', 5),
  ...extra,
];

describe('record layout', () => {
  it('reads back the data it packs', () => {
    const rec = parseRecord(storedHash(recordFields()));
    expect(rec).toEqual({ data, status: 'valid', reason: 'ok', safety: 'unsafe', history: [{ at: 5, what: 'seen' }], marks: [] });
  });

  it('packs hashes and the checksummed origin as base64url bytes, every value within one piece', () => {
    const fields = dataFields(data);
    const field = (name: string) => fields[fields.indexOf(name) + 1]!;
    expect(field('b')).toBe(Buffer.from('ab'.repeat(32), 'hex').toString('base64url'));
    expect(field('b')).toHaveLength(43);
    expect(field('o')).toHaveLength(27);
    for (let i = 1; i < fields.length; i += 2) expect(Buffer.byteLength(fields[i]!)).toBeLessThanOrEqual(PIECE_BYTES);
  });

  it('joins a long value from its pieces as bytes, even when a piece ends inside a character', () => {
    const reason = `${'é'.repeat(40)} and the rest of a long reason that takes three pieces: ${'x'.repeat(60)}`;
    const hash = storedHash([
      ...dataFields(data),
      'st',
      'invalid',
      'rs',
      reason,
      'sf',
      'unsafe',
      'h1',
      historyEntry(`status invalid: ${reason}`, 6),
    ]);
    expect(Object.keys(hash)).toEqual(expect.arrayContaining(['rs', 'rs+1', 'rs+2', 'h1+1']));
    expect(hash.rs).toHaveLength(PIECE_BYTES);
    const rec = parseRecord(hash)!;
    expect(rec.reason).toBe(reason);
    expect(rec.history).toEqual([{ at: 6, what: `status invalid: ${reason}` }]);
  });

  it('keeps values that would not read back exactly as text after ~', () => {
    for (const h of ['0xABCD', '0xabc', '0x', 'not hex']) {
      expect(packHex(h)).toBe(`~${h}`);
      expect(unpackHex(packHex(h))).toBe(h);
    }
    const lower = '0x00000000000000000000000000000000000e4170';
    expect(packAddress(lower)).toBe(`~${lower}`);
    expect(unpackAddress(packAddress(lower))).toBe(lower);
    expect(packAddress('nowhere')).toBe('~nowhere');
  });

  it('reads the history in order and the marks', () => {
    const extra = ['h2', historyEntry('status invalid: bad', 7), 'h3', historyEntry('unpromoted: late | very', 8), 'mk:unpromoted', '1'];
    const rec = parseRecord(storedHash(recordFields(extra)))!;
    expect(rec.history.map((h) => h.at)).toEqual([5, 7, 8]);
    expect(rec.history[2]!.what).toBe('unpromoted: late | very');
    expect(rec.marks).toEqual(['unpromoted']);
  });

  it('is no record without its status or chain', () => {
    expect(parseRecord(null)).toBeUndefined();
    expect(parseRecord({})).toBeUndefined();
    expect(parseRecord(storedHash(['c', '901']))).toBeUndefined();
  });

  it('splits at the same piece size as the Lua scripts', () => {
    const include = readFileSync(new URL('./lua/includes/pieces.lua', import.meta.url), 'utf8');
    expect(include).toMatch(new RegExp(`^local PIECE_BYTES = ${PIECE_BYTES}$`, 'm'));
  });
});
