import { bytesToHex, concat, type Hex, keccak256, toHex } from 'viem';
import { describe, expect, it } from 'vitest';
import { keccak256Bytes, keccak256OfHex } from './keccak.js';

// Lengths around Keccak-256's 136-byte rate, where padding spills into a second block.
const LENGTHS = [0, 1, 31, 32, 52, 64, 135, 136, 137, 272, 1_000];
const bytesOf = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + 7) & 0xff);

describe('keccak256Bytes', () => {
  it.each(LENGTHS)('gives the bytes viem gives for %i input bytes', (n) => {
    expect(bytesToHex(keccak256Bytes(bytesOf(n)))).toBe(keccak256(bytesOf(n)));
  });

  it('returns a new array each call, so a caller may keep or change it', () => {
    const first = keccak256Bytes(bytesOf(3));
    const copy = first.slice();
    keccak256Bytes(bytesOf(4));
    expect(first).toEqual(copy);
  });
});

describe('keccak256OfHex', () => {
  it('hashes the concatenation of its parts, in lowercase hex', () => {
    const parts: Hex[] = [keccak256(toHex('Ping(uint256,bytes)')), '0x', toHex('hi'), bytesToHex(bytesOf(200))];
    expect(keccak256OfHex(parts)).toBe(keccak256(concat(parts)));
    expect(keccak256OfHex(['0xABCDEF'])).toBe(keccak256('0xabcdef'));
  });

  it.each(['0xzz', '0x123', 'abcd', '0x12g4'])('throws on %s rather than hash part of it', (bad) => {
    expect(() => keccak256OfHex(['0x00', bad as Hex])).toThrow(/not hex bytes/);
  });
});
