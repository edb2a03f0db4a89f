import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FilterStandIn, startFilterStandIn } from '../devnet/filter-stand-in.js';
import { messageChecksum, messageEntries } from './access-list.js';
import { filterDivergence, InteropFilterClient } from './interop-filter.js';

const id = {
  origin: '0x00000000000000000000000000000000000E4170',
  blockNumber: 5n,
  logIndex: 0n,
  timestamp: 1000n,
  chainId: 901n,
} as const;
const msgHash = `0x${'ab'.repeat(32)}` as const;
const options = { timeoutMs: 2000, retries: 0, retryDelayMs: 10 };

describe('filterDivergence', () => {
  it('compares settled verdicts only, and never a filter without a verdict', () => {
    expect(filterDivergence('valid', { status: 'invalid', code: -320600, message: 'conflicting data' })).toEqual({
      xmsgStatus: 'valid',
      filterStatus: 'invalid',
    });
    expect(filterDivergence('expired', { status: 'valid' })).toEqual({ xmsgStatus: 'expired', filterStatus: 'valid' });
    expect(filterDivergence('valid', { status: 'valid' })).toBeUndefined();
    expect(filterDivergence('valid', { status: 'no_verdict', reason: 'failsafe' })).toBeUndefined();
    expect(filterDivergence('unverified', { status: 'invalid', code: -320600, message: '' })).toBeUndefined();
    expect(filterDivergence('access_list_mismatch', { status: 'valid' })).toBeUndefined();
  });
});

describe('InteropFilterClient against the loopback op-interop-filter', () => {
  let filter: FilterStandIn;
  beforeAll(async () => {
    filter = await startFilterStandIn([902]);
  });
  afterAll(() => filter.close());
  const client = () => new InteropFilterClient(filter.url, options);

  it('sends the entries, minSafety unsafe and the executing descriptor; null is valid', async () => {
    expect(await client().checkAccessList(messageEntries(id, msgHash), { chainId: 902, timestamp: 1001n })).toEqual({ status: 'valid' });
    expect(filter.checks.at(-1)).toMatchObject({
      minSafety: 'unsafe',
      chainId: 902n,
      timestamp: 1001n,
      messages: [{ blockNumber: 5n, chainId: 901n }],
    });
  });

  it('takes -320600 for invalid, and a filter in failsafe or a dead endpoint for no verdict (the credential in the URL never shown)', async () => {
    filter.reject(messageChecksum(id, msgHash));
    expect(await client().checkAccessList(messageEntries(id, msgHash), { chainId: 902, timestamp: 1001n })).toMatchObject({
      status: 'invalid',
      code: -320600,
    });
    filter.failsafe = true;
    expect(await client().checkAccessList(messageEntries(id, msgHash), { chainId: 902, timestamp: 1001n })).toMatchObject({
      status: 'no_verdict',
    });
    filter.failsafe = false;
    const dead = new InteropFilterClient('http://user:secret@127.0.0.1:9/', options);
    const answer = await dead.checkAccessList([], { chainId: 902, timestamp: 1n });
    expect(answer).toMatchObject({ status: 'no_verdict' });
    expect(JSON.stringify(answer)).not.toContain('secret');
  });

  it("takes the filter's own data-availability errors (pruned, not synced, lost) for no verdict, never a divergence", async () => {
    for (const code of [-320500, -321401, -321500, -321100]) {
      filter.answerError = { code, message: 'not available' };
      expect(await client().checkAccessList(messageEntries(id, msgHash), { chainId: 902, timestamp: 1001n })).toMatchObject({
        status: 'no_verdict',
      });
    }
    filter.answerError = undefined;
  });

  it('is told of an unknown executing chain as the filter says it', async () => {
    expect(await client().checkAccessList(messageEntries(id, msgHash), { chainId: 7, timestamp: 1001n })).toMatchObject({
      status: 'invalid',
      code: -320501,
    });
  });
});
