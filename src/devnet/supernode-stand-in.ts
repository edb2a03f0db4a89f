import { concat, createPublicClient, type Hex, http, keccak256, numberToHex, type PublicClient, toHex } from 'viem';
import { StandInRpcError, type StandInServer, startStandInServer } from './json-rpc-stand-in.js';

/**
 * A loopback stand-in for op-supernode's read-only RPC (DESIGN.md §5), over the devnet's chains: `supernode_syncStatus`
 * and `superroot_atTimestamp` in the shapes of op-service's eth.SuperNodeSyncStatusResponse and
 * eth.SuperRootAtTimestampResponse (see src/chain/supernode.ts). Its cross-safe and finalized heads are its own,
 * set by the test (genesis until then), independent of the `safe` label the chains' proxies answer: a test makes
 * the supernode agree or disagree with the node. Blocks come from the chains; output roots are made up
 * (keccak of the block's state root and hash), the super root is SuperV1's: keccak(0x01 ‖ timestamp ‖ (chain id ‖ output)…).
 */
export interface SupernodeStandIn {
  readonly server: StandInServer;
  readonly url: string;
  /** Sets the supernode's cross-safe head of a chain (its `safe_l2`). */
  setSafe(chainId: number, n: bigint): void;
  setFinalized(chainId: number, n: bigint): void;
  /**
   * While on, every call is received and held unanswered, as by a hung node or a black-holed network; switched off
   * (or closed), the held calls are answered with an error at once, so no client is left waiting on the stand-in.
   */
  setHanging(on: boolean): void;
  close(): Promise<void>;
}

const ZERO = `0x${'00'.repeat(32)}` as Hex;
const ZERO_L1 = { hash: ZERO, number: 0, parentHash: ZERO, timestamp: 0 };

interface L2Block {
  hash: Hex;
  number: bigint;
  parentHash: Hex;
  timestamp: bigint;
  stateRoot: Hex;
}

export async function startSupernodeStandIn(chains: ReadonlyArray<{ chainId: number; rpcUrl: string }>): Promise<SupernodeStandIn> {
  const clients = new Map<number, PublicClient>(chains.map((c) => [c.chainId, createPublicClient({ transport: http(c.rpcUrl) })]));
  const safe = new Map<number, bigint>(chains.map((c) => [c.chainId, 0n]));
  const finalized = new Map<number, bigint>(chains.map((c) => [c.chainId, 0n]));

  const block = async (chainId: number, at: bigint | 'latest'): Promise<L2Block> => {
    const b = await clients.get(chainId)!.getBlock(at === 'latest' ? { blockTag: 'latest' } : { blockNumber: at });
    return { hash: b.hash, number: b.number, parentHash: b.parentHash, timestamp: b.timestamp, stateRoot: b.stateRoot };
  };
  const ref = (b: L2Block) => ({
    hash: b.hash,
    number: Number(b.number),
    parentHash: b.parentHash,
    timestamp: Number(b.timestamp),
    l1origin: { hash: ZERO, number: 0 },
    sequenceNumber: 0,
  });
  /** The chain's last block at or before the timestamp, as op-node's block-at-timestamp on a chain of 1-block steps. */
  const blockAt = async (chainId: number, timestamp: bigint): Promise<L2Block | undefined> => {
    let high = await block(chainId, 'latest');
    if (high.timestamp <= timestamp) return high;
    let low = await block(chainId, 0n);
    if (low.timestamp > timestamp) return undefined;
    while (high.number - low.number > 1n) {
      const mid = await block(chainId, (low.number + high.number) / 2n);
      if (mid.timestamp <= timestamp) low = mid;
      else high = mid;
    }
    return low;
  };
  const outputRoot = (b: L2Block) => keccak256(concat([ZERO, b.stateRoot, ZERO, b.hash]));
  const timestamps = async (heads: Map<number, bigint>) =>
    Promise.all([...heads].map(async ([chainId, n]) => (await block(chainId, n)).timestamp));
  const minimum = (xs: bigint[]) => xs.reduce((a, b) => (b < a ? b : a));

  const methods = {
    async supernode_syncStatus() {
      const entries = await Promise.all(
        chains.map(async ({ chainId }) => {
          const [latest, s, f] = await Promise.all([
            block(chainId, 'latest'),
            block(chainId, safe.get(chainId)!),
            block(chainId, finalized.get(chainId)!),
          ]);
          const status = {
            current_l1: ZERO_L1,
            current_l1_finalized: ZERO_L1,
            head_l1: ZERO_L1,
            safe_l1: ZERO_L1,
            finalized_l1: ZERO_L1,
            unsafe_l2: ref(latest),
            safe_l2: ref(s),
            finalized_l2: ref(f),
            pending_safe_l2: ref(s),
            cross_unsafe_l2: ref(latest),
            local_safe_l2: ref(s),
          };
          return [String(chainId), status] as const;
        }),
      );
      const safeTs = minimum(await timestamps(safe));
      return {
        chains: Object.fromEntries(entries),
        chain_ids: chains.map((c) => String(c.chainId)),
        current_l1: { hash: ZERO, number: 0 },
        safe_timestamp: Number(safeTs),
        local_safe_timestamp: Number(safeTs),
        finalized_timestamp: Number(minimum(await timestamps(finalized))),
      };
    },
    async superroot_atTimestamp(params: unknown[]) {
      const [raw] = params;
      // hexutil.Uint64: 0x-prefixed, no leading zero digits.
      if (typeof raw !== 'string' || !/^0x(0|[1-9a-f][0-9a-f]*)$/i.test(raw))
        throw new StandInRpcError(
          -32602,
          `invalid argument 0: json: cannot unmarshal ${JSON.stringify(raw)} into Go value of type hexutil.Uint64`,
        );
      const timestamp = BigInt(raw);
      const safeTs = minimum(await timestamps(safe));
      const finalizedTs = minimum(await timestamps(finalized));
      const optimistic: Record<string, unknown> = {};
      const outputs: Array<{ chainId: number; output: Hex }> = [];
      for (const { chainId } of chains) {
        const b = await blockAt(chainId, timestamp);
        if (!b) continue;
        const root = outputRoot(b);
        outputs.push({ chainId, output: root });
        optimistic[String(chainId)] = {
          output: { version: ZERO, outputRoot: root, blockRef: ref(b), withdrawalStorageRoot: ZERO, stateRoot: b.stateRoot },
          required_l1: { hash: ZERO, number: 0 },
        };
      }
      const verified = timestamp <= safeTs && outputs.length === chains.length;
      const sorted = [...outputs].sort((a, b) => a.chainId - b.chainId);
      const superRoot = keccak256(
        concat(['0x01', numberToHex(timestamp, { size: 8 }), ...sorted.flatMap((o) => [toHex(BigInt(o.chainId), { size: 32 }), o.output])]),
      );
      return {
        current_l1: { hash: ZERO, number: 0 },
        safe_timestamp: Number(safeTs),
        local_safe_timestamp: Number(safeTs),
        finalized_timestamp: Number(finalizedTs),
        optimistic_at_timestamp: optimistic,
        chain_ids: chains.map((c) => String(c.chainId)),
        ...(verified
          ? {
              data: {
                verified_required_l1: { hash: ZERO, number: 0 },
                super: { timestamp: numberToHex(timestamp), chains: sorted.map((o) => ({ ChainID: String(o.chainId), Output: o.output })) },
                super_root: superRoot,
              },
            }
          : {}),
      };
    },
  };
  const hang = holdWhileHanging();
  const server = await startStandInServer(Object.fromEntries(Object.entries(methods).map(([name, method]) => [name, hang.around(method)])));
  return {
    server,
    url: server.url,
    setSafe: (chainId, n) => safe.set(chainId, n),
    setFinalized: (chainId, n) => finalized.set(chainId, n),
    setHanging: hang.set,
    close: () => {
      hang.set(false);
      return server.close();
    },
  };
}

/** Holds each call made while hanging until hanging is switched off, then fails the held ones. */
function holdWhileHanging() {
  let hanging = false;
  const held = new Set<(err: Error) => void>();
  return {
    set(on: boolean) {
      hanging = on;
      if (on) return;
      for (const fail of held) fail(new StandInRpcError(-32000, 'the stand-in stopped hanging'));
      held.clear();
    },
    around:
      (method: (params: unknown[]) => unknown) =>
      async (params: unknown[]): Promise<unknown> => {
        if (hanging) await new Promise<never>((_, reject) => held.add(reject));
        return method(params);
      },
  };
}
