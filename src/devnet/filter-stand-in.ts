import { setTimeout as delay } from 'node:timers/promises';
import type { Hex } from 'viem';
import { type DeclaredMessage, parseInboxEntries } from '../chain/access-list.js';
import { StandInRpcError, type StandInServer, startStandInServer } from './json-rpc-stand-in.js';

/**
 * A loopback stand-in for op-interop-filter's public RPC (DESIGN.md §5): `interop_checkAccessList(inboxEntries,
 * minSafety, executingDescriptor)` with the filter's checks in its order (filter/backend.go CheckAccessList) and its
 * error codes (`specs/interop/supervisor.md`): failsafe -320602, unsupported safety level -32000, unknown executing
 * chain -320501, malformed entries -32000 ("failed to parse access entry"), then each declared message, which the test
 * judges (`reject`): a rejected one is -320600 "conflicting data", as the filter answers a message it does not find.
 */
export interface FilterStandIn {
  readonly server: StandInServer;
  readonly url: string;
  /** While on, every check is refused with -320602, as the filter in failsafe. */
  failsafe: boolean;
  /** While set, every check is answered with this error (e.g. a filter still syncing: -321401 future data). */
  answerError: { code: number; message: string } | undefined;
  /** Each check is answered after this many ms (a slow filter); 0 at first. */
  delayMs: number;
  /** The most checks in flight at once since it was last set (to 0 for a new measurement). */
  peakInFlight: number;
  /** Makes the filter answer "conflicting data" for a message whose checksum entry is this one. */
  reject(checksum: Hex): void;
  /** Every access-list check served, with the messages its entries declare. */
  readonly checks: Array<{ messages: DeclaredMessage[]; minSafety: string; chainId: bigint; timestamp: bigint }>;
  close(): Promise<void>;
}

const SAFETY_LEVELS = ['invalid', 'unsafe', 'cross-unsafe', 'local-safe', 'safe', 'finalized'];

export async function startFilterStandIn(chainIds: readonly number[]): Promise<FilterStandIn> {
  const rejected = new Set<string>();
  const checks: FilterStandIn['checks'] = [];
  const state: { failsafe: boolean; answerError?: { code: number; message: string }; delayMs: number; peakInFlight: number } = {
    failsafe: false,
    delayMs: 0,
    peakInFlight: 0,
  };
  let inFlight = 0;
  const hexUint = (v: unknown, where: string): bigint => {
    if (typeof v !== 'string' || !/^0x[0-9a-f]+$/i.test(v))
      throw new StandInRpcError(-32602, `invalid argument 2: ${where}: not a hex number`);
    return BigInt(v);
  };
  const check = (params: unknown[]) => {
    if (params.length < 3) throw new StandInRpcError(-32602, `missing value for required argument ${params.length}`);
    const [entries, minSafety, descriptor] = params;
    if (!Array.isArray(entries))
      throw new StandInRpcError(-32602, 'invalid argument 0: json: cannot unmarshal into Go value of type []common.Hash');
    if (typeof minSafety !== 'string' || !SAFETY_LEVELS.includes(minSafety))
      throw new StandInRpcError(-32602, `invalid argument 1: unrecognized safety level: ${JSON.stringify(minSafety)}`);
    const d = (descriptor ?? {}) as { chainID?: unknown; timestamp?: unknown };
    const chainId = hexUint(d.chainID, 'chainID');
    const timestamp = hexUint(d.timestamp, 'timestamp');
    if (state.failsafe) throw new StandInRpcError(-320602, 'failsafe is enabled, rejecting all CheckAccessList requests');
    if (state.answerError) throw new StandInRpcError(state.answerError.code, state.answerError.message);
    if (minSafety !== 'unsafe' && minSafety !== 'cross-unsafe')
      throw new StandInRpcError(-32000, `unsupported safety level ${minSafety}: only unsafe and cross-unsafe are supported`);
    if (!chainIds.includes(Number(chainId))) throw new StandInRpcError(-320501, `executing chain ${chainId}: unknown chain`);
    const parsed = parseInboxEntries(entries as string[]);
    checks.push({ messages: parsed.messages, minSafety, chainId, timestamp });
    if (parsed.problem) throw new StandInRpcError(-32000, `failed to parse access entry: ${parsed.problem}`);
    const bad = parsed.messages.find((m) => rejected.has(m.checksum.toLowerCase()));
    if (bad)
      throw new StandInRpcError(-320600, `message at chain ${bad.chainId} block ${bad.blockNumber} log ${bad.logIndex}: conflicting data`);
    return null;
  };
  const server = await startStandInServer({
    async interop_checkAccessList(params) {
      state.peakInFlight = Math.max(state.peakInFlight, ++inFlight);
      try {
        if (state.delayMs > 0) await delay(state.delayMs);
        return check(params);
      } finally {
        inFlight--;
      }
    },
  });
  return {
    server,
    url: server.url,
    get failsafe() {
      return state.failsafe;
    },
    set failsafe(on: boolean) {
      state.failsafe = on;
    },
    get answerError() {
      return state.answerError;
    },
    set answerError(error) {
      state.answerError = error;
    },
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(ms: number) {
      state.delayMs = ms;
    },
    get peakInFlight() {
      return state.peakInFlight;
    },
    set peakInFlight(n: number) {
      state.peakInFlight = n;
    },
    reject: (checksum) => rejected.add(checksum.toLowerCase()),
    checks,
    close: () => server.close(),
  };
}
