import { type Address, pad, toHex } from 'viem';
import { describe, expect, it } from 'vitest';
import { ActivationBlocks } from './activation.js';
import { type Identifier, messagePayloadHash } from './inbox.js';
import type { BlockHeader, ChainLog } from './rpc.js';
import type { SourceBlocks } from './source-blocks.js';
import { validateExecuting } from './validate.js';
import { ACTIVE_SINCE_GENESIS, type ExecutingBlock, type SourceBlock, type ValidityRules } from './validity.js';

const ORIGIN: Address = '0x00000000000000000000000000000000000E4170';
const initiating: ChainLog = {
  address: ORIGIN,
  topics: [pad('0x01')],
  data: toHex('hello'),
  blockNumber: 100n,
  blockHash: pad('0xb100'),
  logIndex: 0n,
  transactionHash: pad('0x7100'),
};
const msgHash = messagePayloadHash(initiating);
const id: Identifier = { origin: ORIGIN, blockNumber: 100n, logIndex: 0n, timestamp: 1000n, chainId: 901n };
const rules: ValidityRules = {
  dependencySet: new Map([
    [901, ACTIVE_SINCE_GENESIS],
    [902, ACTIVE_SINCE_GENESIS],
  ]),
  expiryWindowS: 604_800,
};
/** Executed on chain 902, in the block of that time (one every 10 s, as chainsOf makes them). */
const at = (timestamp: bigint): ExecutingBlock => ({ chainId: 902, blockNumber: timestamp / 10n, timestamp });
/** Chains 901 and 902 with a block every 10 s from time 0, heads at 200; counts the headers asked for. */
function chainsOf(heads: Record<number, bigint> = { 901: 200n, 902: 200n }) {
  const asked = { headers: 0 };
  const rpc = (chainId: number) => ({
    header: async (n: bigint | 'latest'): Promise<BlockHeader | undefined> => {
      asked.headers++;
      const number = n === 'latest' ? heads[chainId]! : n;
      if (number > heads[chainId]!) return undefined;
      return { number, hash: pad(toHex(number)), parentHash: pad('0x0'), timestamp: number * 10n };
    },
  });
  return { rpcs: new Map([901, 902].map((c) => [c, rpc(c)])), asked };
}

/** Source blocks answering from `answer`, recording what was asked; both chains have an RPC. */
function sourcesAnswering(answer: () => Promise<SourceBlock>) {
  const asked: Array<{ chainId: number; blockNumber: bigint; fresh?: boolean }> = [];
  const sources = {
    get: (chainId: number, blockNumber: bigint, options: { fresh?: boolean } = {}) => {
      asked.push({ chainId, blockNumber, fresh: options.fresh });
      return answer();
    },
  } as unknown as SourceBlocks;
  const { rpcs } = chainsOf();
  return { asked, lookups: { sources, activationBlocks: new ActivationBlocks(rpcs), watched: rpcs } };
}

describe('validateExecuting', () => {
  it('looks up the source block named by the identifier and applies the rules to it', async () => {
    const { lookups, asked } = sourcesAnswering(async () => ({ kind: 'block', timestamp: 1000n, logs: [initiating] }));
    expect(await validateExecuting(msgHash, id, at(1010n), lookups, rules)).toEqual({
      status: 'valid',
      reason: 'initiating log found and matches',
    });
    expect(asked).toEqual([{ chainId: 901, blockNumber: 100n, fresh: false }]);
    await validateExecuting(msgHash, id, at(1010n), lookups, rules, true);
    expect(asked[1]?.fresh).toBe(true);
  });

  it('decides without a lookup what needs no source block', async () => {
    const { lookups, asked } = sourcesAnswering(() => Promise.reject(new Error('must not be asked')));
    expect((await validateExecuting(msgHash, { ...id, chainId: 903n }, at(1010n), lookups, rules)).status).toBe('invalid');
    expect((await validateExecuting(msgHash, id, at(999n), lookups, rules)).status).toBe('invalid');
    expect((await validateExecuting(msgHash, id, at(1001n + 604_800n), lookups, rules)).status).toBe('expired');
    expect(asked).toEqual([]);
  });

  it('answers unknown, with the first line of the error, when the lookup fails', async () => {
    const failing = sourcesAnswering(() => Promise.reject(new Error('HTTP request failed.\n\nStatus: 503\nURL: http://node')));
    expect(await validateExecuting(msgHash, id, at(1010n), failing.lookups, rules)).toEqual({
      status: 'unknown',
      reason: 'source lookup failed: HTTP request failed.',
    });
    const throwingText = sourcesAnswering(() => Promise.reject('socket hang up'));
    expect((await validateExecuting(msgHash, id, at(1010n), throwingText.lookups, rules)).reason).toBe(
      'source lookup failed: socket hang up',
    );
  });

  it('keeps a message whose source block is not produced yet as future', async () => {
    const { lookups } = sourcesAnswering(async () => ({ kind: 'not_yet_produced', sourceHead: 90n }));
    expect((await validateExecuting(msgHash, id, at(1010n), lookups, rules)).status).toBe('future');
  });

  it('answers unverified, without a lookup, for a dependency-set chain without an RPC; invalid still wins', async () => {
    const { lookups, asked } = sourcesAnswering(() => Promise.reject(new Error('must not be asked')));
    const withUnwatched = { ...rules, dependencySet: new Map([...rules.dependencySet, [905, ACTIVE_SINCE_GENESIS]]) };
    const unwatched = { ...id, chainId: 905n };
    expect(await validateExecuting(msgHash, unwatched, at(1010n), lookups, withUnwatched)).toEqual({
      status: 'unverified',
      reason: 'no RPC for chain 905',
    });
    expect((await validateExecuting(msgHash, unwatched, at(1001n + 604_800n), lookups, withUnwatched)).status).toBe('expired');
    const notActiveYet = new Map([...withUnwatched.dependencySet, [905, { activationTime: 1001n, historyMinTime: 0n }]]);
    expect((await validateExecuting(msgHash, unwatched, at(1010n), lookups, { ...rules, dependencySet: notActiveYet })).status).toBe(
      'invalid',
    );
    // Outside the dependency set, no RPC changes nothing: invalid.
    expect((await validateExecuting(msgHash, { ...id, chainId: 906n }, at(1010n), lookups, withUnwatched)).status).toBe('invalid');
    expect(asked).toEqual([]);
  });
});

describe('validateExecuting at the interop activation', () => {
  // Blocks every 10 s: block 100 (time 1000) holds the initiating log; the message is executed in block 101 (1010).
  const activating = (chainId: number, activationTime: bigint): ValidityRules => ({
    ...rules,
    dependencySet: new Map([...rules.dependencySet, [chainId, { activationTime, historyMinTime: 0n }]]),
  });
  const found = async () => ({ kind: 'block' as const, timestamp: 1000n, logs: [initiating] });

  it('refuses a message initiated in the activation block, when the activation time falls between two blocks', async () => {
    const { lookups } = sourcesAnswering(found);
    // The first block at or after 991 is block 100, at 1000: the initiating log's.
    expect(await validateExecuting(msgHash, id, at(1010n), lookups, activating(901, 991n))).toEqual({
      status: 'invalid',
      reason: "initiating block is chain 901's interop activation block 100 (the first at or after 991), which carries no interop messages",
    });
    // With the activation time at 981, block 99 is the activation block and block 100 may initiate.
    expect((await validateExecuting(msgHash, id, at(1010n), sourcesAnswering(found).lookups, activating(901, 981n))).status).toBe('valid');
  });

  it('refuses a message executed in the activation block', async () => {
    const { lookups } = sourcesAnswering(found);
    expect(await validateExecuting(msgHash, id, at(1010n), lookups, activating(902, 1001n))).toMatchObject({
      status: 'invalid',
      reason: expect.stringContaining("executing block is chain 902's interop activation block 101"),
    });
    expect((await validateExecuting(msgHash, id, at(1020n), lookups, activating(902, 1001n))).status).toBe('valid');
  });

  it('looks the activation block up once per chain, and not at all without an activation time', async () => {
    const { rpcs, asked } = chainsOf();
    const lookups = { sources: sourcesAnswering(found).lookups.sources, activationBlocks: new ActivationBlocks(rpcs), watched: rpcs };
    await validateExecuting(msgHash, id, at(1010n), lookups, rules);
    expect(asked.headers).toBe(0);
    await Promise.all([1010n, 1020n, 1030n].map((t) => validateExecuting(msgHash, id, at(t), lookups, activating(901, 981n))));
    const once = asked.headers;
    // A binary search over the 201 blocks: about log2(201) headers, and the head.
    expect(once).toBeGreaterThan(0);
    expect(once).toBeLessThanOrEqual(10);
    await validateExecuting(msgHash, id, at(1040n), lookups, activating(901, 981n));
    expect(asked.headers).toBe(once);
  });

  it('leaves a source chain that has not reached its activation yet to the source lookup (future), and asks again later', async () => {
    const { rpcs, asked } = chainsOf({ 901: 90n, 902: 200n });
    const notYet = sourcesAnswering(async () => ({ kind: 'not_yet_produced', sourceHead: 90n }));
    const lookups = { sources: notYet.lookups.sources, activationBlocks: new ActivationBlocks(rpcs), watched: rpcs };
    expect((await validateExecuting(msgHash, id, at(1010n), lookups, activating(901, 991n))).status).toBe('future');
    const first = asked.headers;
    await validateExecuting(msgHash, id, at(1010n), lookups, activating(901, 991n));
    expect(asked.headers).toBeGreaterThan(first);
  });

  it('answers unknown when the activation block cannot be looked up', async () => {
    const failing = { header: () => Promise.reject(new Error('connection refused\nat ...')) };
    const rpcs = new Map([
      [901, failing],
      [902, failing],
    ]);
    const lookups = { sources: sourcesAnswering(found).lookups.sources, activationBlocks: new ActivationBlocks(rpcs), watched: rpcs };
    expect(await validateExecuting(msgHash, id, at(1010n), lookups, activating(901, 981n))).toEqual({
      status: 'unknown',
      reason: 'source lookup failed: connection refused',
    });
  });
});
