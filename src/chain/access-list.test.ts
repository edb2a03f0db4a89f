import { encodeAccessList } from '@eth-optimism/viem/utils/interop';
import { type AccessList, type Address, type Hex, keccak256, maxUint32, maxUint64, pad, toHex } from 'viem';
import { describe, expect, it } from 'vitest';
import {
  accessListFor,
  chainIdExtensionEntry,
  checkDeclared,
  DECLARED,
  inboxEntries,
  lookupEntry,
  messageChecksum,
  messageEntries,
  parseInboxEntries,
  readInboxDeclarations,
  undeclarable,
  withAccessList,
} from './access-list.js';
import { DEFAULT_INBOX_ADDRESS, type Identifier } from './inbox.js';

const INBOX = DEFAULT_INBOX_ADDRESS;

// The test vector of @eth-optimism/viem's encodeAccessList (src/utils/interop/encodeAccessList.spec.ts): a message of
// the L2ToL2CrossDomainMessenger from chain 901, with its payload; the msgHash is the payload's keccak256.
const vectorId: Identifier = {
  origin: '0x4200000000000000000000000000000000000023',
  blockNumber: 14n,
  logIndex: 2n,
  timestamp: 1743801675n,
  chainId: 901n,
};
const vectorPayload: Hex =
  '0x382409ac69001e11931a28435afef442cbfd20d9891907e8fa373ba7d351f3200000000000000000000000000000000000000000000000000000000000000386000000000000000000000000420000000000000000000000000000000000002800000000000000000000000000000000000000000000000000000000000000000000000000000000000000004200000000000000000000000000000000000028000000000000000000000000000000000000000000000000000000000000004000000000000000000000000000000000000000000000000000000000000000847cfd6dbc000000000000000000000000420beef000000000000000000000000000000001000000000000000000000000f39fd6e51aad88f6f4ce6ab8827279cfffb92266000000000000000000000000f39fd6e51aad88f6f4ce6ab8827279cfffb9226600000000000000000000000000000000000000000000000000000000000003e800000000000000000000000000000000000000000000000000000000';
const vectorHash = keccak256(vectorPayload);

const ORIGIN: Address = '0x00000000000000000000000000000000000E4170';
const id: Identifier = { origin: ORIGIN, blockNumber: 100n, logIndex: 3n, timestamp: 1000n, chainId: 901n };
const msgHash = keccak256(toHex('payload'));
const bigChainId = maxUint64 + 20n;

const declarationsOf = (messages: { identifier: Identifier; msgHash: Hex }[]) =>
  readInboxDeclarations(accessListFor(INBOX, messages), INBOX);

describe('encoding', () => {
  it("matches @eth-optimism/viem's test vector", () => {
    expect(messageEntries(vectorId, vectorHash)).toEqual([
      '0x010000000000000000000385000000000000000e0000000067f04d4b00000002',
      '0x03c6d2648cef120ce1d7ccf9f8d4042d6b25ff30a02e22d9ea2a47d2677ccb8d',
    ]);
    expect(messageEntries({ ...vectorId, chainId: bigChainId }, vectorHash)).toEqual([
      '0x010000000000000000000013000000000000000e0000000067f04d4b00000002',
      '0x0200000000000000000000000000000000000000000000000000000000000001',
      '0x03ffd9bcc97d1c56ae1e5727287611dc92241680d1e32e590d919b5b458c9204',
    ]);
  });

  it("agrees with @eth-optimism/viem's encoder across identifiers, up to the limits", () => {
    const ids: Identifier[] = [
      id,
      { ...id, chainId: 0n, blockNumber: 0n, logIndex: 0n, timestamp: 0n },
      { ...id, blockNumber: maxUint64, timestamp: maxUint64, logIndex: maxUint32, chainId: maxUint64 },
      { ...id, chainId: maxUint64 + 1n },
      { ...id, chainId: (1n << 256n) - 1n, origin: '0xFFfFfFffFFfffFFfFFfFFFFFffFFFffffFfFFFfF' },
    ];
    for (const [i, identifier] of ids.entries()) {
      const payload = toHex(`payload ${i}`);
      expect(accessListFor(INBOX, [{ identifier, msgHash: keccak256(payload) }])).toEqual(encodeAccessList(identifier, payload));
    }
  });

  it('lays the lookup entry out as op-supervisor does: type, 3 zero bytes, chain id, block number, timestamp, log index', () => {
    const entry = lookupEntry({ ...id, chainId: 0x0102n, blockNumber: 0x0304n, timestamp: 0x0506n, logIndex: 0x0708n });
    expect(entry).toBe(
      `0x01000000${'0102'.padStart(16, '0')}${'0304'.padStart(16, '0')}${'0506'.padStart(16, '0')}${'0708'.padStart(8, '0')}`,
    );
    expect(chainIdExtensionEntry((0xabn << 64n) | 5n)).toBe(`0x02${'00'.repeat(7)}${'ab'.padStart(48, '0')}`);
  });

  it('makes the checksum a type 3 entry that commits to every field and the msgHash', () => {
    const checksum = messageChecksum(id, msgHash);
    expect(checksum.slice(0, 4)).toBe('0x03');
    const variants: Identifier[] = [
      { ...id, origin: '0x00000000000000000000000000000000000E4171' },
      { ...id, blockNumber: 101n },
      { ...id, timestamp: 1001n },
      { ...id, logIndex: 4n },
      { ...id, chainId: 902n },
    ];
    const checksums = new Set([checksum, ...variants.map((v) => messageChecksum(v, msgHash)), messageChecksum(id, pad('0x01'))]);
    expect(checksums.size).toBe(variants.length + 2);
  });

  it('refuses identifiers the real inbox cannot take, and declares a message executed twice once', () => {
    expect(undeclarable({ ...id, blockNumber: maxUint64 + 1n })).toMatch(/block number .* does not fit in uint64/);
    expect(undeclarable({ ...id, timestamp: maxUint64 + 1n })).toMatch(/timestamp .* does not fit in uint64/);
    expect(undeclarable({ ...id, logIndex: maxUint32 + 1n })).toMatch(/log index .* does not fit in uint32/);
    expect(() => messageChecksum({ ...id, logIndex: maxUint32 + 1n }, msgHash)).toThrow(RangeError);
    const twice = accessListFor(INBOX, [
      { identifier: id, msgHash },
      { identifier: id, msgHash },
    ]);
    expect(twice[0]!.storageKeys).toEqual(messageEntries(id, msgHash));
  });
});

describe('parsing the inbox entries', () => {
  it('joins the storage keys of every item under the inbox, in order, and ignores other addresses', () => {
    const other: Address = '0x00000000000000000000000000000000000000aa';
    const list: AccessList = [
      { address: INBOX.toLowerCase() as Address, storageKeys: [pad('0x01')] },
      { address: other, storageKeys: [pad('0x02')] },
      { address: INBOX, storageKeys: [pad('0x03'), pad('0x04')] },
    ];
    expect(inboxEntries(list, INBOX)).toEqual([pad('0x01'), pad('0x03'), pad('0x04')]);
    expect(inboxEntries(undefined, INBOX)).toEqual([]);
  });

  it('reads back what it encodes, the chain-id extension included', () => {
    const messages = [
      { identifier: id, msgHash },
      { identifier: { ...id, chainId: bigChainId, logIndex: 9n }, msgHash },
      { identifier: vectorId, msgHash: vectorHash },
    ];
    const parsed = declarationsOf(messages);
    expect(parsed.problem).toBeUndefined();
    expect(parsed.entries).toBe(7);
    expect(parsed.messages).toEqual(
      messages.map(({ identifier: i, msgHash: h }) => ({
        chainId: i.chainId,
        blockNumber: i.blockNumber,
        timestamp: i.timestamp,
        logIndex: i.logIndex,
        checksum: messageChecksum(i, h),
      })),
    );
  });

  const [lookup, checksum] = messageEntries(id, msgHash) as [Hex, Hex];
  const extension = chainIdExtensionEntry(bigChainId);
  const problemOf = (entries: string[]) => parseInboxEntries(entries).problem;

  it.each([
    ['a short entry', [lookup, checksum.slice(0, 64)], /storage key 2 of 2 \(0x03.*, 64 characters\) is not a 32-byte hex word/],
    ['a long entry', [`${lookup}00`], /storage key 1 of 1 .* is not a 32-byte hex word/],
    ['an entry that is not hex', [lookup, `0x${'zz'.repeat(32)}`], /storage key 2 of 2 .* is not a 32-byte hex word/],
    ['an entry without 0x', [lookup.slice(2)], /storage key 1 of 1 .* is not a 32-byte hex word/],
    ['type 0', [pad('0x00'), checksum], /storage key 1 of 2 has type 0, which is reserved: expected a lookup entry/],
    ['a checksum without a lookup entry', [checksum], /storage key 1 of 1 has type 3: expected a lookup entry \(type 1\)/],
    ['a lookup entry at the end', [lookup], /ends after the lookup entry \(inbox storage key 1 of 1\): a checksum entry must follow/],
    [
      'two lookup entries in a row',
      [lookup, lookup, checksum],
      /storage key 2 of 3 has type 1: expected a chain-id extension \(type 2\) or checksum/,
    ],
    ['an unknown type', [lookup, `0x07${checksum.slice(4)}`], /storage key 2 of 2 has type 7/],
    ['a chain-id extension at the end', [lookup, extension], /ends after the chain-id extension \(inbox storage key 2 of 2\)/],
    [
      'an extension before a lookup',
      [lookup, extension, lookup],
      /storage key 3 of 3 has type 1: expected a checksum entry \(type 3\) after the chain-id extension/,
    ],
    [
      'reserved lookup bytes set',
      [`0x0100ff00${lookup.slice(10)}`, checksum],
      /storage key 1 of 2, a lookup entry, has non-zero reserved bytes 1\.\.4/,
    ],
    [
      'extension zero bytes set',
      [lookup, `0x0201${extension.slice(6)}`, checksum],
      /storage key 2 of 3, a chain-id extension entry, has non-zero bytes 1\.\.8/,
    ],
  ])('refuses %s with a clear reason', (_name, entries, reason) => {
    expect(problemOf(entries as string[])).toMatch(reason);
  });

  it('keeps the messages parsed before a problem, and accepts no entries at all', () => {
    const parsed = parseInboxEntries([lookup, checksum, checksum]);
    expect(parsed.messages).toHaveLength(1);
    expect(parsed.problem).toMatch(/storage key 3 of 3/);
    expect(parseInboxEntries([])).toEqual({ entries: 0, messages: [] });
    expect(
      parseInboxEntries([lookup.toUpperCase().replace('0X', '0x'), checksum.toUpperCase().replace('0X', '0x')]).messages[0]?.checksum,
    ).toBe(checksum);
  });
});

describe('checkDeclared', () => {
  const other = { identifier: { ...id, logIndex: 7n }, msgHash };

  it('finds a message declared among others', () => {
    expect(checkDeclared(declarationsOf([other, { identifier: id, msgHash }]), id, msgHash)).toEqual(DECLARED);
    const big = { ...id, chainId: bigChainId };
    expect(checkDeclared(declarationsOf([{ identifier: big, msgHash }]), big, msgHash)).toEqual(DECLARED);
  });

  it('calls a message missing when nothing or only other messages are declared', () => {
    expect(checkDeclared(readInboxDeclarations(undefined, INBOX), id, msgHash)).toEqual({
      verdict: 'missing',
      reason: 'the transaction declares nothing under the inbox',
    });
    const elsewhere = [{ address: '0x00000000000000000000000000000000000000aa' as Address, storageKeys: messageEntries(id, msgHash) }];
    expect(checkDeclared(readInboxDeclarations(elsewhere, INBOX), id, msgHash).verdict).toBe('missing');
    expect(checkDeclared(declarationsOf([other]), id, msgHash)).toEqual({
      verdict: 'missing',
      reason: `no checksum entry ${messageChecksum(id, msgHash)} among the 1 message declared under the inbox`,
    });
  });

  it('calls a message mismatched when its checksum sits behind another lookup entry', () => {
    const [, sum] = messageEntries(id, msgHash) as [Hex, Hex];
    const wrongLookup = lookupEntry({ ...id, blockNumber: 101n });
    const r = checkDeclared(parseInboxEntries([wrongLookup, sum]), id, msgHash);
    expect(r).toEqual({
      verdict: 'mismatched',
      reason: `the lookup entry before checksum ${sum} has block number 101, the identifier 100`,
    });
  });

  it('calls a large chain id without its extension entry mismatched, saying so', () => {
    const big = { ...id, chainId: bigChainId };
    const entries = messageEntries(big, msgHash);
    const r = checkDeclared(parseInboxEntries([entries[0]!, entries[2]!]), big, msgHash);
    expect(r.verdict).toBe('mismatched');
    expect(r.reason).toMatch(/has chain id 19: chain id 18446744073709551635 does not fit in uint64 and needs a chain-id extension entry/);
  });

  it('calls a message mismatched when the checksum declared for its identifier is another', () => {
    const r = checkDeclared(declarationsOf([{ identifier: id, msgHash: pad('0x01') }]), id, msgHash);
    expect(r.verdict).toBe('mismatched');
    expect(r.reason).toMatch(
      /the checksum declared for this identifier, 0x03\w+, is not the message's 0x03\w+ \(origin or msgHash differ\)/,
    );
  });

  it('calls malformed entries and undeclarable identifiers mismatched', () => {
    const [l, c] = messageEntries(id, msgHash) as [Hex, Hex];
    expect(checkDeclared(parseInboxEntries([l, c, c.slice(0, 10)]), id, msgHash)).toEqual({
      verdict: 'mismatched',
      reason: 'malformed inbox entries: inbox storage key 3 of 3 ("0x03' + c.slice(4, 10) + '") is not a 32-byte hex word',
    });
    const huge = { ...id, blockNumber: 1n << 70n };
    expect(checkDeclared(declarationsOf([{ identifier: id, msgHash }]), huge, msgHash)).toEqual({
      verdict: 'mismatched',
      reason: `identifier block number ${1n << 70n} does not fit in uint64: the real inbox reverts on such an identifier`,
    });
  });
});

describe('withAccessList', () => {
  const missing = { verdict: 'missing', reason: 'the transaction declares nothing under the inbox' } as const;

  it('turns an otherwise valid message into access_list_mismatch, keeping the reason', () => {
    expect(withAccessList({ status: 'valid', reason: 'ok' }, missing)).toEqual({
      status: 'access_list_mismatch',
      reason: 'access list missing: the transaction declares nothing under the inbox',
    });
    expect(withAccessList({ status: 'valid', reason: 'ok' }, DECLARED)).toEqual({ status: 'valid', reason: 'ok' });
  });

  it('lets the validity rules speak first for an invalid message, and does not wait for the source of a forged one', () => {
    expect(withAccessList({ status: 'expired', reason: 'old' }, missing)).toEqual({ status: 'expired', reason: 'old' });
    expect(withAccessList({ status: 'future', reason: 'later' }, missing).status).toBe('access_list_mismatch');
    expect(withAccessList({ status: 'unknown', reason: 'rpc' }, missing).status).toBe('access_list_mismatch');
  });
});
