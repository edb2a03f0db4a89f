/**
 * Keccak-256 for the per-message hot path: the msgHash of an initiating log and the three hashes of an access-list
 * checksum, four per executing message. viem's `keccak256` (pure-JS @noble/hashes) took about 6.5 µs a hash here, a
 * sixth of xmsg's CPU per message in `npm run bench`; hash-wasm's WebAssembly Keccak takes about 0.5 µs. Node's
 * OpenSSL has SHA3-256 but not Keccak-256 (the two differ in their padding byte), so it cannot stand in.
 *
 * One hasher, used synchronously (init, update, digest never interleave on one thread), is created when the module
 * loads; every caller gets the same bytes viem would give.
 */
import { createKeccak } from 'hash-wasm';
import type { Hex } from 'viem';

const hasher = await createKeccak(256);

/** Keccak-256 of `data`, as 32 bytes (a new array the caller owns). */
export function keccak256Bytes(data: Uint8Array): Uint8Array {
  hasher.init();
  hasher.update(data);
  return hasher.digest('binary');
}

/**
 * Keccak-256 of the concatenation of hex strings, as lowercase hex. A part that is not `0x` and whole bytes of hex
 * throws, as viem's would: Buffer's decoder stops silently at the first bad character, and hashing what it kept
 * would turn a malformed RPC answer into a wrong msgHash, an `invalid` verdict and a false page.
 */
export function keccak256OfHex(parts: readonly Hex[]): Hex {
  hasher.init();
  for (const part of parts) {
    const bytes = Buffer.from(part.slice(2), 'hex');
    if (!part.startsWith('0x') || bytes.length * 2 !== part.length - 2) throw new TypeError(`not hex bytes: ${part.slice(0, 20)}`);
    hasher.update(bytes);
  }
  return `0x${hasher.digest('hex')}`;
}
