import { type Address, type Hex, keccak256, pad, toHex } from 'viem';
import { describe, expect, it } from 'vitest';
import type { Identifier } from './inbox.js';
import { messagePayloadHash } from './inbox.js';
import type { ChainLog } from './rpc.js';
import {
  ACTIVE_SINCE_GENESIS,
  checkActivationBlock,
  checkValidity,
  checkWithoutSource,
  type DependencyChain,
  type ExecutingBlock,
  isInvalid,
  isSettled,
  needsActivationBlock,
  type SourceBlock,
  VALIDITY_STATUSES,
  type ValidityRules,
  type ValidityStatus,
} from './validity.js';

const SOURCE_CHAIN = 901n;
const ORIGIN: Address = '0x00000000000000000000000000000000000E4170';
const WEEK_S = 604_800;
const EXECUTING_CHAIN = 902;
const dependencySet = (entries: Record<number, Partial<DependencyChain>>) =>
  new Map(Object.entries(entries).map(([c, e]) => [Number(c), { ...ACTIVE_SINCE_GENESIS, ...e }]));
const rules: ValidityRules = { dependencySet: dependencySet({ 901: {}, 902: {} }), expiryWindowS: WEEK_S };
const executedAt = (timestamp: bigint, blockNumber = 500n): ExecutingBlock => ({ chainId: EXECUTING_CHAIN, blockNumber, timestamp });

/** The initiating log at index 3 of source block 100 (timestamp 1000), among two other logs. */
const initiating: ChainLog = {
  address: ORIGIN,
  topics: [keccak256(toHex('Ping(uint256,bytes)')), pad('0x2a')],
  data: toHex('hello'),
  blockNumber: 100n,
  blockHash: pad('0xb100'),
  logIndex: 3n,
  transactionHash: pad('0x7100'),
};
const otherLog = (logIndex: bigint): ChainLog => ({ ...initiating, data: toHex(`other ${logIndex}`), logIndex });
const sourceBlock: SourceBlock = { kind: 'block', timestamp: 1000n, logs: [otherLog(2n), initiating, otherLog(4n)] };
const msgHash = messagePayloadHash(initiating);
const id: Identifier = { origin: ORIGIN, blockNumber: 100n, logIndex: 3n, timestamp: 1000n, chainId: SOURCE_CHAIN };

const check = (o: { id?: Partial<Identifier>; executedAt?: bigint; source?: SourceBlock; hash?: Hex; rules?: ValidityRules } = {}) =>
  checkValidity(o.hash ?? msgHash, { ...id, ...o.id }, executedAt(o.executedAt ?? 1010n), o.source ?? sourceBlock, o.rules ?? rules);

describe('checkValidity', () => {
  it('accepts a message whose initiating log is at its identifier and hashes to its msgHash', () => {
    expect(check()).toEqual({ status: 'valid', reason: 'initiating log found and matches' });
  });

  it('compares the origin and the msgHash without regard to hex case', () => {
    expect(check({ id: { origin: ORIGIN.toLowerCase() as Address }, hash: msgHash.toUpperCase().replace('0X', '0x') as Hex }).status).toBe(
      'valid',
    );
  });

  it('refuses a source chain outside the dependency set, before anything else', () => {
    const outsider = { chainId: 903n, timestamp: 1n };
    expect(check({ id: outsider })).toEqual({ status: 'invalid', reason: 'source chain 903 is not in the dependency set' });
    // The dependency set is the configured one, not a fixed list.
    expect(check({ id: outsider, rules: { ...rules, dependencySet: dependencySet({ 903: {} }) } }).status).not.toBe('invalid');
  });

  it('refuses an identifier timestamp later than the executing block (invalid, not future)', () => {
    expect(check({ executedAt: 999n })).toEqual({
      status: 'invalid',
      reason: "identifier timestamp 1000 is after the executing block's 999",
    });
    // Executed in the same second as initiated is allowed.
    expect(check({ executedAt: 1000n }).status).toBe('valid');
  });

  // specs/interop/messaging.md: expired when `id.timestamp + EXPIRY_TIME < executing_block.timestamp`.
  it('expires a message executed after timestamp + expiry window, not at it', () => {
    expect(check({ executedAt: 1000n + BigInt(WEEK_S) }).status).toBe('valid');
    expect(check({ executedAt: 1001n + BigInt(WEEK_S) })).toEqual({
      status: 'expired',
      reason: `initiated at 1000, executed at ${1001 + WEEK_S}: older than the ${WEEK_S} s expiry window`,
    });
  });

  it("uses the dependency set's expiry window", () => {
    const hour = { ...rules, expiryWindowS: 3600 };
    expect(check({ executedAt: 4600n, rules: hour }).status).toBe('valid');
    expect(check({ executedAt: 4601n, rules: hour })).toMatchObject({
      status: 'expired',
      reason: expect.stringContaining('3600 s expiry'),
    });
  });

  it('keeps a message from a source block not produced yet as future', () => {
    expect(check({ source: { kind: 'not_yet_produced', sourceHead: 97n } })).toEqual({
      status: 'future',
      reason: 'source chain 901 is at block 97, before 100',
    });
  });

  it('expires a message without waiting for its source block', () => {
    expect(check({ executedAt: 2000n + BigInt(WEEK_S), source: { kind: 'not_yet_produced', sourceHead: 0n } }).status).toBe('expired');
  });

  it('flags a source block whose timestamp differs from the identifier', () => {
    expect(check({ id: { timestamp: 999n } })).toEqual({
      status: 'timestamp_mismatch',
      reason: 'source block 100 has timestamp 1000, identifier says 999',
    });
  });

  it('refuses a log index the source block does not have', () => {
    expect(check({ id: { logIndex: 7n } })).toEqual({ status: 'invalid', reason: 'source block 100 has no log at index 7' });
    expect(check({ source: { kind: 'block', timestamp: 1000n, logs: [] } }).reason).toBe('source block 100 has no log at index 3');
  });

  it('refuses a log emitted by another address than the origin', () => {
    const origin: Address = '0x000000000000000000000000000000000000dEaD';
    expect(check({ id: { origin } })).toEqual({
      status: 'invalid',
      reason: `log 3 was emitted by ${ORIGIN}, not by origin ${origin}`,
    });
  });

  it('refuses a msgHash that is not the hash of the log at the identifier', () => {
    const forged = keccak256(toHex('forged'));
    expect(check({ hash: forged })).toEqual({
      status: 'invalid',
      reason: `msgHash ${forged} does not match the initiating log's payload hash ${msgHash}`,
    });
    // The hash of a neighbouring log of the same block is not this identifier's message either.
    expect(check({ hash: messagePayloadHash(otherLog(4n)) }).status).toBe('invalid');
  });
});

describe('checkWithoutSource', () => {
  it('passes what needs the source block to look at', () => {
    expect(
      checkWithoutSource({ ...id, logIndex: 99n, origin: '0x000000000000000000000000000000000000dEaD' }, executedAt(1010n), rules),
    ).toBeUndefined();
  });

  it('settles dependency-set, future-timestamp and expiry cases on its own', () => {
    expect(checkWithoutSource({ ...id, chainId: 5n }, executedAt(1010n), rules)?.status).toBe('invalid');
    expect(checkWithoutSource(id, executedAt(999n), rules)?.status).toBe('invalid');
    expect(checkWithoutSource(id, executedAt(1001n + BigInt(WEEK_S)), rules)?.status).toBe('expired');
  });
});

describe('interop activation', () => {
  // The initiating log is at time 1000 on chain 901; the message is executed at 1010 on chain 902.
  const activatedAt = (entries: Record<number, Partial<DependencyChain>>) => ({ ...rules, dependencySet: dependencySet(entries) });

  it('refuses a message executed before the executing chain activates interop', () => {
    expect(check({ rules: activatedAt({ 901: {}, 902: { activationTime: 1011n } }) })).toEqual({
      status: 'invalid',
      reason: "executing block time 1010 is before chain 902's interop activation at 1011",
    });
  });

  it('refuses a message initiated before the initiating chain activates interop', () => {
    expect(check({ rules: activatedAt({ 901: { activationTime: 1001n }, 902: {} }) })).toEqual({
      status: 'invalid',
      reason: "initiating block time 1000 is before chain 901's interop activation at 1001",
    });
  });

  it('refuses a block at exactly the activation time: it is the activation block, which carries no interop messages', () => {
    expect(check({ rules: activatedAt({ 901: {}, 902: { activationTime: 1010n } }) })).toMatchObject({
      status: 'invalid',
      reason: expect.stringContaining("executing block is chain 902's interop activation block"),
    });
    expect(check({ rules: activatedAt({ 901: { activationTime: 1000n }, 902: {} }) })).toMatchObject({
      status: 'invalid',
      reason: expect.stringContaining("initiating block is chain 901's interop activation block"),
    });
  });

  it('accepts blocks after the activation time, leaving the activation block to be compared by number', () => {
    const later = activatedAt({ 901: { activationTime: 999n }, 902: { activationTime: 1009n } });
    expect(check({ rules: later }).status).toBe('valid');
    expect(needsActivationBlock(later.dependencySet.get(901), 1000n)).toBe(true);
    // No activation time: active since genesis, nothing to look up.
    expect(needsActivationBlock(rules.dependencySet.get(901), 1000n)).toBe(false);
    expect(needsActivationBlock(later.dependencySet.get(901), 999n)).toBe(false);
  });

  it("refuses a block at or below its chain's activation block, accepts the ones after it", () => {
    const chain = { activationTime: 999n, historyMinTime: 0n };
    expect(checkActivationBlock('initiating', 901, 100n, 100n, chain)).toEqual({
      status: 'invalid',
      reason: "initiating block is chain 901's interop activation block 100 (the first at or after 999), which carries no interop messages",
    });
    expect(checkActivationBlock('executing', 902, 101n, 100n, chain)).toBeUndefined();
  });

  it("refuses an initiating timestamp before the chain's historyMinTime", () => {
    expect(check({ rules: activatedAt({ 901: { historyMinTime: 1001n }, 902: {} }) })).toEqual({
      status: 'invalid',
      reason: "initiated at 1000, before chain 901's historyMinTime 1001 in the dependency set",
    });
    expect(check({ rules: activatedAt({ 901: { historyMinTime: 1000n }, 902: {} }) }).status).toBe('valid');
  });

  it('does not check the activation of an executing chain outside the dependency set', () => {
    expect(check({ rules: activatedAt({ 901: {} }) }).status).toBe('valid');
  });
});

describe('statuses', () => {
  const table = (f: (s: ValidityStatus) => boolean) => VALIDITY_STATUSES.filter(f);

  it('re-checks future and unknown; every other status, unverified too, is final', () => {
    expect(table((s) => !isSettled(s))).toEqual(['future', 'unknown']);
  });

  it('counts invalid, expired, timestamp_mismatch and access_list_mismatch as invalid messages', () => {
    expect(table(isInvalid)).toEqual(['invalid', 'expired', 'timestamp_mismatch', 'access_list_mismatch']);
  });
});
