import { describe, expect, it } from 'vitest';
import {
  askSupernode,
  describeSecondOpinion,
  parseSuperRootAt,
  parseSyncStatus,
  SupernodeClient,
  type SupernodeView,
} from './supernode.js';

const H = (n: number) => `0x${n.toString(16).padStart(64, '0')}` as const;
const ref = (n: number) => ({
  hash: H(n),
  number: n,
  parentHash: H(n - 1),
  timestamp: 1000 + n,
  l1origin: { hash: H(0), number: 0 },
  sequenceNumber: 0,
});

describe('op-supernode answers', () => {
  it('reads supernode_syncStatus: per chain the safe_l2 and finalized_l2 heads, keyed by decimal or hex chain id', () => {
    const s = parseSyncStatus(
      {
        chains: { '901': { safe_l2: ref(7), finalized_l2: ref(3) }, '0x386': { safe_l2: ref(9), finalized_l2: ref(1) } },
        safe_timestamp: 1007,
        finalized_timestamp: 1001,
      },
      'sn',
    );
    expect(s.chains.get(901)?.safe).toEqual({ number: 7n, hash: H(7) });
    expect(s.chains.get(902)?.finalized.number).toBe(1n);
    expect(s.safeTimestamp).toBe(1007n);
  });

  it('refuses a malformed answer with the field named', () => {
    expect(() => parseSyncStatus({ chains: { '901': { safe_l2: { hash: '0x12', number: 1 } } } }, 'sn')).toThrow(
      'sn: chains.901.safe_l2.hash',
    );
    expect(() => parseSyncStatus({ chains: { abc: {} } }, 'sn')).toThrow('"abc" is not a chain id');
  });

  it('reads superroot_atTimestamp: the optimistic block per chain, the super root only once verified', () => {
    const optimistic = { '901': { output: { blockRef: ref(5), outputRoot: H(1) }, required_l1: { hash: H(0), number: 0 } } };
    expect(parseSuperRootAt({ optimistic_at_timestamp: optimistic, chain_ids: ['901'] }, 'sr')).toEqual({
      optimistic: new Map([[901, { number: 5n, hash: H(5) }]]),
    });
    expect(parseSuperRootAt({ optimistic_at_timestamp: optimistic, data: { super_root: H(42) } }, 'sr').superRoot).toBe(H(42));
  });
});

describe('the second opinion on a page', () => {
  const block = { chainId: 901, number: 7n, hash: H(7), timestamp: 1007n };
  const agreeing: SupernodeView = {
    endpoint: 'sn:8545',
    ok: true,
    safeHead: 8n,
    crossSafe: true,
    blockAtTimestamp: { number: 7n, hash: H(7) },
    superRoot: H(9),
  };

  it('says both agree when every supernode that answered has the block cross-safe', () => {
    const text = describeSecondOpinion(block, '7', [agreeing, { endpoint: 'down:1', ok: false, error: 'no answer' }]);
    expect(text).toContain("The node's `safe` label (head 7) says block 7 is cross-safe.");
    expect(text).toContain('op-supernode sn:8545: cross-safe head 8, so block 7 is cross-safe.');
    expect(text).toContain('op-supernode down:1 could not be asked: no answer.');
    expect(text).toContain('agree');
  });

  it('says loudly which supernode disagrees', () => {
    const other: SupernodeView = { ...agreeing, endpoint: 'sn2:8545', safeHead: 6n, crossSafe: false };
    const text = describeSecondOpinion(block, '7', [agreeing, other]);
    expect(text).toContain('block 7 is NOT cross-safe');
    expect(text).toContain('THEY DISAGREE');
    expect(text).toContain('sn2:8545 says not');
  });

  it('gives up on a supernode that does not answer within the budget, and says so', async () => {
    const hung = new (class extends SupernodeClient {
      override syncStatus = () => new Promise<never>(() => undefined);
    })('http://hung:8545', { timeoutMs: 60_000, retries: 1, retryDelayMs: 1000 });
    const view = await askSupernode(hung, block, 50);
    expect(view).toEqual({ endpoint: 'hung:8545', ok: false, error: 'no answer within 0.05 s' });
    const text = describeSecondOpinion(block, '7', [view]);
    expect(text).toContain('op-supernode hung:8545 could not be asked: no answer within 0.05 s.');
    expect(text).toContain('No supernode answered');
  });
});
