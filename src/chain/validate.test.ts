import { type Address, pad, toHex } from 'viem';
import { describe, expect, it } from 'vitest';
import { type Identifier, messagePayloadHash } from './inbox.js';
import type { ChainLog } from './rpc.js';
import type { SourceBlocks } from './source-blocks.js';
import { validateExecuting } from './validate.js';
import type { SourceBlock, ValidityRules } from './validity.js';

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
const rules: ValidityRules = { dependencySet: new Set([901]), expiryWindowS: 604_800 };

/** Source blocks answering from `answer`, recording what was asked. */
function sourcesAnswering(answer: () => Promise<SourceBlock>) {
  const asked: Array<{ chainId: number; blockNumber: bigint; fresh?: boolean }> = [];
  const sources = {
    get: (chainId: number, blockNumber: bigint, options: { fresh?: boolean } = {}) => {
      asked.push({ chainId, blockNumber, fresh: options.fresh });
      return answer();
    },
  } as unknown as SourceBlocks;
  return { sources, asked };
}

describe('validateExecuting', () => {
  it('looks up the source block named by the identifier and applies the rules to it', async () => {
    const { sources, asked } = sourcesAnswering(async () => ({ kind: 'block', timestamp: 1000n, logs: [initiating] }));
    expect(await validateExecuting(msgHash, id, 1010n, sources, rules)).toEqual({
      status: 'valid',
      reason: 'initiating log found and matches',
    });
    expect(asked).toEqual([{ chainId: 901, blockNumber: 100n, fresh: false }]);
    await validateExecuting(msgHash, id, 1010n, sources, rules, true);
    expect(asked[1]?.fresh).toBe(true);
  });

  it('decides without a lookup what needs no source block', async () => {
    const { sources, asked } = sourcesAnswering(() => Promise.reject(new Error('must not be asked')));
    expect((await validateExecuting(msgHash, { ...id, chainId: 902n }, 1010n, sources, rules)).status).toBe('invalid');
    expect((await validateExecuting(msgHash, id, 999n, sources, rules)).status).toBe('invalid');
    expect((await validateExecuting(msgHash, id, 1001n + 604_800n, sources, rules)).status).toBe('expired');
    expect(asked).toEqual([]);
  });

  it('answers unknown, with the first line of the error, when the lookup fails', async () => {
    const failing = sourcesAnswering(() => Promise.reject(new Error('HTTP request failed.\n\nStatus: 503\nURL: http://node')));
    expect(await validateExecuting(msgHash, id, 1010n, failing.sources, rules)).toEqual({
      status: 'unknown',
      reason: 'source lookup failed: HTTP request failed.',
    });
    const throwingText = sourcesAnswering(() => Promise.reject('socket hang up'));
    expect((await validateExecuting(msgHash, id, 1010n, throwingText.sources, rules)).reason).toBe('source lookup failed: socket hang up');
  });

  it('keeps a message whose source block is not produced yet as future', async () => {
    const { sources } = sourcesAnswering(async () => ({ kind: 'not_yet_produced', sourceHead: 90n }));
    expect((await validateExecuting(msgHash, id, 1010n, sources, rules)).status).toBe('future');
  });
});
