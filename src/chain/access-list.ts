/**
 * The EIP-2930 access-list entries that declare executing messages to the CrossL2Inbox, as
 * `specs/interop/predeploys.md` §"Access-list" defines them: "Each executing message is declared with 3 typed
 * access-list entries: 1: Lookup identity, 2: Chain-ID extension, 3: Checksum", "The type of entry is encoded in the
 * first byte. Type 0 is reserved". Pure: encoding (for the devnet's relayer helpers), parsing and the per-message
 * verdict (for the follower), and how a verdict combines with the validity rules (for the checker).
 */
import { type AccessList, type Address, bytesToHex, type Hex, hexToBytes, isHex, maxUint32, maxUint64 } from 'viem';
import type { Identifier } from './inbox.js';
import { keccak256Bytes } from './keccak.js';
import { isInvalid, type Verdict } from './validity.js';

export const LOOKUP_ENTRY = 0x01;
export const CHAIN_ID_EXTENSION_ENTRY = 0x02;
export const CHECKSUM_ENTRY = 0x03;

/** A message as its entries declare it: the lookup identity (plus chain-id extension) and the checksum after it. */
export interface DeclaredMessage {
  chainId: bigint;
  blockNumber: bigint;
  timestamp: bigint;
  logIndex: bigint;
  checksum: Hex;
}

/** The inbox entries of one transaction, parsed once for all of its executing logs. */
export interface InboxDeclarations {
  /** How many storage keys the transaction declares under the inbox. */
  entries: number;
  messages: DeclaredMessage[];
  /** Why the entries do not parse; the supervisor spec fails the whole access list then. */
  problem?: string;
}

/** What a transaction's access list says of one of its executing logs. */
export interface AccessListCheck {
  verdict: 'declared' | 'missing' | 'mismatched';
  /** Empty when declared. */
  reason: string;
}

export const DECLARED: AccessListCheck = { verdict: 'declared', reason: '' };

// ---------------------------------------------------------------------------------------------------------
// Encoding.

/**
 * Why an identifier cannot be declared at all. The real inbox's checksum packs the block number and timestamp as
 * uint64 and the log index as uint32, and reverts (BlockNumberTooHigh, TimestampTooHigh, LogIndexTooHigh) above that.
 */
export function undeclarable(id: Identifier): string | undefined {
  if (id.blockNumber < 0n || id.blockNumber > maxUint64) return `identifier block number ${id.blockNumber} does not fit in uint64`;
  if (id.timestamp < 0n || id.timestamp > maxUint64) return `identifier timestamp ${id.timestamp} does not fit in uint64`;
  if (id.logIndex < 0n || id.logIndex > maxUint32) return `identifier log index ${id.logIndex} does not fit in uint32`;
  if (id.chainId < 0n || id.chainId >= 1n << 256n) return `identifier chain id ${id.chainId} does not fit in uint256`;
  return undefined;
}

function assertDeclarable(id: Identifier): void {
  const why = undeclarable(id);
  if (why) throw new RangeError(why);
}

/**
 * The checksum entry (type 3) of a message. The spec: "logHash = H(bytes20(idOrigin) ++ msgHash)",
 * "idPacked = bytes12(0) ++ idBlockNumber ++ idTimestamp ++ idLogIndex", "idLogHash = H(logHash ++ idPacked)",
 * "bareChecksum = H(idLogHash ++ idChainID)", "checksum = typeByte ++ bareChecksum[1:]" with typeByte 0x03.
 */
export function messageChecksum(id: Identifier, msgHash: Hex): Hex {
  assertDeclarable(id);
  const buf = new Uint8Array(64);
  const view = new DataView(buf.buffer);
  buf.set(hexBytes(id.origin, 20), 0);
  buf.set(hexBytes(msgHash, 32), 20);
  const logHash = keccak256Bytes(buf.subarray(0, 52));
  buf.fill(0);
  buf.set(logHash, 0);
  // idPacked "matches the trailing part of the lookupID": 12 zero bytes, then block number, timestamp, log index.
  view.setBigUint64(32 + 12, id.blockNumber);
  view.setBigUint64(32 + 20, id.timestamp);
  view.setUint32(32 + 28, Number(id.logIndex));
  const idLogHash = keccak256Bytes(buf);
  buf.set(idLogHash, 0);
  writeUint256(view, 32, id.chainId);
  const checksum = keccak256Bytes(buf);
  checksum[0] = CHECKSUM_ENTRY;
  return bytesToHex(checksum);
}

/**
 * The lookup entry (type 1). The spec's layout: "0..1: type byte, always 0x01", "1..4: reserved, zeroed by default",
 * "4..12: big-endian uint64 chain ID", then block number, timestamp (uint64 each) and log index (uint32), big-endian.
 * (Its byte ranges for those three, "12..16", "16..24", "24..32", miscount: 8 + 8 + 4 bytes fill 12..32, as idPacked
 * and op-supervisor's encoder, 12..20, 20..28, 28..32, have it.) "The lower 64 bits of the chain-ID are always
 * encoded in the lookup entry."
 */
export function lookupEntry(id: Identifier): Hex {
  assertDeclarable(id);
  const out = new Uint8Array(32);
  const view = new DataView(out.buffer);
  out[0] = LOOKUP_ENTRY;
  view.setBigUint64(4, id.chainId & maxUint64);
  view.setBigUint64(12, id.blockNumber);
  view.setBigUint64(20, id.timestamp);
  view.setUint32(28, Number(id.logIndex));
  return bytesToHex(out);
}

/** The chain-ID extension (type 2): "0..1: type byte, always 0x02", "1..8: zero bytes", "8..32: upper 24 bytes of big-endian uint256 chain-ID". */
export function chainIdExtensionEntry(chainId: bigint): Hex {
  const word = new Uint8Array(32);
  writeUint256(new DataView(word.buffer), 0, chainId);
  const out = new Uint8Array(32);
  out[0] = CHAIN_ID_EXTENSION_ENTRY;
  out.set(word.subarray(0, 24), 8);
  return bytesToHex(out);
}

/**
 * The entries that declare one message, in the order the spec expects them: the lookup entry, the chain-ID extension
 * "right after the lookup identity entry" only when needed ("This extension entry does not have to be included for
 * chain-IDs that fit in uint64"), then the checksum.
 */
export function messageEntries(id: Identifier, msgHash: Hex): Hex[] {
  const entries = [lookupEntry(id)];
  if (id.chainId > maxUint64) entries.push(chainIdExtensionEntry(id.chainId));
  entries.push(messageChecksum(id, msgHash));
  return entries;
}

/**
 * The access list a transaction executing these messages (in this order) sends: every entry under the inbox
 * address. A message executed twice is declared once ("the access-list entries may be de-duplicated: the same message
 * may be executed multiple times").
 */
export function accessListFor(inbox: Address, messages: readonly { identifier: Identifier; msgHash: Hex }[]): AccessList {
  const storageKeys: Hex[] = [];
  const seen = new Set<Hex>();
  for (const m of messages) {
    const entries = messageEntries(m.identifier, m.msgHash);
    const checksum = entries.at(-1)!;
    if (seen.has(checksum)) continue;
    seen.add(checksum);
    storageKeys.push(...entries);
  }
  return [{ address: inbox, storageKeys }];
}

// ---------------------------------------------------------------------------------------------------------
// Parsing.

/**
 * The storage keys a transaction declares under the inbox. The supervisor spec (`specs/interop/supervisor.md`,
 * "Access-list contents"): "All storage keys applicable to the CrossL2Inbox MUST be joined together (preserving
 * ordering)"; other addresses' keys are not looked at.
 */
export function inboxEntries(accessList: AccessList | undefined, inbox: Address): Hex[] {
  const wanted = inbox.toLowerCase();
  return (accessList ?? []).filter((item) => item.address.toLowerCase() === wanted).flatMap((item) => [...item.storageKeys]);
}

/**
 * Parses a transaction's inbox entries into the messages they declare. Strict, as the supervisor spec asks: "ALL
 * storage-keys in the access-list for the CrossL2Inbox MUST be checked. If there is any unrecognized or invalid key,
 * the access-list check MUST fail", with the order of predeploys.md: "after type 1, a type 2 or 3 entry is expected",
 * "after type 2, a type 3 entry is expected". The messages parsed before a problem are returned with it.
 */
export function parseInboxEntries(entries: readonly string[]): InboxDeclarations {
  const messages: DeclaredMessage[] = [];
  const words: Uint8Array[] = [];
  for (const [i, entry] of entries.entries()) {
    if (typeof entry !== 'string' || !isHex(entry, { strict: true }) || entry.length !== 66) {
      return declarations(entries, messages, `${keyName(i, entries)} (${preview(entry)}) is not a 32-byte hex word`);
    }
    words.push(hexBytes(entry as Hex, 32));
  }
  let i = 0;
  const typeOf = (n: number) => words[n]![0]!;
  while (i < words.length) {
    const lookup = words[i]!;
    if (typeOf(i) !== LOOKUP_ENTRY) {
      return declarations(entries, messages, `${keyName(i, entries)} ${unexpected(typeOf(i), 'a lookup entry (type 1)')}`);
    }
    if (lookup[1] !== 0 || lookup[2] !== 0 || lookup[3] !== 0) {
      return declarations(entries, messages, `${keyName(i, entries)}, a lookup entry, has non-zero reserved bytes 1..4`);
    }
    const view = new DataView(lookup.buffer, lookup.byteOffset, 32);
    const declared: Omit<DeclaredMessage, 'checksum'> = {
      chainId: view.getBigUint64(4),
      blockNumber: view.getBigUint64(12),
      timestamp: view.getBigUint64(20),
      logIndex: BigInt(view.getUint32(28)),
    };
    const lookupAt = i++;
    if (i >= words.length) {
      return declarations(
        entries,
        messages,
        `the access list ends after the lookup entry (${keyName(lookupAt, entries)}): a checksum entry must follow`,
      );
    }
    if (typeOf(i) === CHAIN_ID_EXTENSION_ENTRY) {
      const extension = words[i]!;
      if (extension.subarray(1, 8).some((b) => b !== 0)) {
        return declarations(entries, messages, `${keyName(i, entries)}, a chain-id extension entry, has non-zero bytes 1..8`);
      }
      // The lower 8 bytes come from the lookup entry, the upper 24 from the extension.
      declared.chainId = (readUint(extension.subarray(8, 32)) << 64n) | declared.chainId;
      i++;
      if (i >= words.length) {
        return declarations(
          entries,
          messages,
          `the access list ends after the chain-id extension (${keyName(i - 1, entries)}): a checksum entry must follow`,
        );
      }
      if (typeOf(i) !== CHECKSUM_ENTRY) {
        return declarations(
          entries,
          messages,
          `${keyName(i, entries)} ${unexpected(typeOf(i), 'a checksum entry (type 3) after the chain-id extension')}`,
        );
      }
    } else if (typeOf(i) !== CHECKSUM_ENTRY) {
      return declarations(
        entries,
        messages,
        `${keyName(i, entries)} ${unexpected(typeOf(i), 'a chain-id extension (type 2) or checksum entry (type 3) after the lookup entry')}`,
      );
    }
    messages.push({ ...declared, checksum: (entries[i] as Hex).toLowerCase() as Hex });
    i++;
  }
  return declarations(entries, messages);
}

/** The inbox declarations of a transaction's access list. */
export function readInboxDeclarations(accessList: AccessList | undefined, inbox: Address): InboxDeclarations {
  return parseInboxEntries(inboxEntries(accessList, inbox));
}

function declarations(entries: readonly string[], messages: DeclaredMessage[], problem?: string): InboxDeclarations {
  return problem === undefined ? { entries: entries.length, messages } : { entries: entries.length, messages, problem };
}

const keyName = (i: number, entries: readonly string[]) => `inbox storage key ${i + 1} of ${entries.length}`;

function unexpected(type: number, expected: string): string {
  return type === 0 ? `has type 0, which is reserved: expected ${expected}` : `has type ${type}: expected ${expected}`;
}

function preview(entry: unknown): string {
  if (typeof entry !== 'string') return typeof entry;
  return entry.length > 20 ? `${entry.slice(0, 12)}…, ${entry.length} characters` : JSON.stringify(entry);
}

// ---------------------------------------------------------------------------------------------------------
// The verdict of one executing log.

/**
 * Whether the transaction declares this executing message: its checksum entry, preceded by the lookup entry of the
 * same identifier (and the chain-ID extension when the chain id needs it). The inbox itself only asks for the
 * checksum ("The CrossL2Inbox only checks the checksum is present in the access-list: the presence of other needed
 * entries is enforced during pre-validation"); a log whose checksum is not declared cannot have come from the real
 * inbox, and one whose other entries are wrong passed no pre-validation.
 */
export function checkDeclared(declarations: InboxDeclarations, id: Identifier, msgHash: Hex): AccessListCheck {
  const why = undeclarable(id);
  if (why) return { verdict: 'mismatched', reason: `${why}: the real inbox reverts on such an identifier` };
  if (declarations.problem) return { verdict: 'mismatched', reason: `malformed inbox entries: ${declarations.problem}` };
  if (declarations.entries === 0) return { verdict: 'missing', reason: 'the transaction declares nothing under the inbox' };

  const checksum = messageChecksum(id, msgHash);
  const candidates = byChecksum(declarations).get(checksum);
  const declared = candidates?.find((m) => sameIdentity(m, id)) ?? candidates?.[0];
  if (!declared) {
    const sameId = declarations.messages.find((m) => sameIdentity(m, id));
    if (sameId) {
      return {
        verdict: 'mismatched',
        reason: `the checksum declared for this identifier, ${sameId.checksum}, is not the message's ${checksum} (origin or msgHash differ)`,
      };
    }
    const count = declarations.messages.length;
    return {
      verdict: 'missing',
      reason: `no checksum entry ${checksum} among the ${count} message${count === 1 ? '' : 's'} declared under the inbox`,
    };
  }
  const difference = identityDifference(declared, id);
  return difference ? { verdict: 'mismatched', reason: `the lookup entry before checksum ${checksum} ${difference}` } : DECLARED;
}

// A transaction may execute hundreds of messages: each of its logs looks its checksum up in one index.
const checksumIndexes = new WeakMap<InboxDeclarations, Map<Hex, DeclaredMessage[]>>();

function byChecksum(declarations: InboxDeclarations): Map<Hex, DeclaredMessage[]> {
  let index = checksumIndexes.get(declarations);
  if (!index) {
    index = new Map();
    for (const m of declarations.messages) index.set(m.checksum, [...(index.get(m.checksum) ?? []), m]);
    checksumIndexes.set(declarations, index);
  }
  return index;
}

function sameIdentity(m: DeclaredMessage, id: Identifier): boolean {
  return identityDifference(m, id) === undefined;
}

function identityDifference(m: DeclaredMessage, id: Identifier): string | undefined {
  if (m.chainId !== id.chainId) {
    return id.chainId > maxUint64 && m.chainId === (id.chainId & maxUint64)
      ? `has chain id ${m.chainId}: chain id ${id.chainId} does not fit in uint64 and needs a chain-id extension entry`
      : `has chain id ${m.chainId}, the identifier ${id.chainId}`;
  }
  if (m.blockNumber !== id.blockNumber) return `has block number ${m.blockNumber}, the identifier ${id.blockNumber}`;
  if (m.timestamp !== id.timestamp) return `has timestamp ${m.timestamp}, the identifier ${id.timestamp}`;
  if (m.logIndex !== id.logIndex) return `has log index ${m.logIndex}, the identifier ${id.logIndex}`;
  return undefined;
}

/**
 * The verdict once the access list is looked at, after the validity rules: a message the rules find invalid stays so
 * (that says more about it); any other whose transaction does not declare it is `access_list_mismatch`, without
 * waiting for its source chain (a `future` or `unknown` one too), since the real inbox cannot have emitted its log.
 */
export function withAccessList(verdict: Verdict, check: AccessListCheck): Verdict {
  if (check.verdict === 'declared' || isInvalid(verdict.status)) return verdict;
  return { status: 'access_list_mismatch', reason: `access list ${check.verdict}: ${check.reason}` };
}

// ---------------------------------------------------------------------------------------------------------

function hexBytes(hex: Hex, size: number): Uint8Array {
  return hexToBytes(hex, { size });
}

function writeUint256(view: DataView, offset: number, value: bigint): void {
  for (let i = 3; i >= 0; i--) {
    view.setBigUint64(offset + i * 8, value & maxUint64);
    value >>= 64n;
  }
}

function readUint(bytes: Uint8Array): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}
