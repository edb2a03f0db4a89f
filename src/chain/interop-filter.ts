import type { Hex } from 'viem';
import { endpointLabel } from './failsafe-admin.js';
import { JsonRpcAnswerError, type JsonRpcCallOptions, jsonRpcCall } from './json-rpc-call.js';

/**
 * op-interop-filter's ingress check, asked as a second opinion on each executing message (XMSG_INTEROP_FILTER_RPC):
 * `interop_checkAccessList(inboxEntries []common.Hash, minSafety SafetyLevel, executingDescriptor ExecutingDescriptor)`
 * (filter/frontend.go, QueryFrontend). `null` result: every entry is valid at `minSafety`; a JSON-RPC error otherwise,
 * coded as the supervisor spec's data-availability errors (`specs/interop/supervisor.md`, "Error Codes"). The filter
 * supports `minSafety` `unsafe` and `cross-unsafe` only. The descriptor is `{chainID, timestamp, timeout}`
 * (op-supervisor types.ExecutingDescriptor: chainID a uint256, timestamp and timeout hexutil.Uint64).
 */

/**
 * Error codes that say the filter cannot judge now, not that the message is invalid (supervisor.md, "Error Codes"):
 * its failsafe, and the data-availability errors about its own database (not synced, pruned, out of scope, lost).
 * Only a verdict about the message itself — CONFLICTING_DATA (-320600), UNKNOWN_CHAIN (-320501, "not in the
 * dependency set"), a malformed access list — is compared with xmsg's; a false divergence would be a false alert.
 */
export const FILTER_NO_VERDICT_CODES: Readonly<Record<number, string>> = {
  [-320602]: 'failsafe enabled',
  [-321401]: 'future data',
  [-320400]: 'uninitialized chain database',
  [-320500]: 'skipped data (pruned)',
  [-320901]: 'awaiting a replacement block',
  [-321100]: 'out of scope',
  [-321500]: 'missed data',
  [-321501]: 'data corruption',
};

/** What the filter answered for one access list. */
export type FilterAnswer =
  | { status: 'valid' }
  | { status: 'invalid'; code: number; message: string }
  /** No verdict: transport failure, or an answer that says the filter cannot judge now (failsafe, not synced). */
  | { status: 'no_verdict'; reason: string };

export interface ExecutingDescriptor {
  chainId: number;
  timestamp: bigint;
}

export class InteropFilterClient {
  readonly label: string;

  constructor(
    readonly url: string,
    private readonly options: JsonRpcCallOptions,
  ) {
    this.label = endpointLabel(url);
  }

  /** Never throws: a filter that does not answer is `no_verdict`, never a divergence (as op-interop-mon's FilterObserver). */
  async checkAccessList(entries: readonly Hex[], executing: ExecutingDescriptor): Promise<FilterAnswer> {
    const descriptor = {
      chainID: `0x${executing.chainId.toString(16)}`,
      timestamp: `0x${executing.timestamp.toString(16)}`,
      timeout: '0x0',
    };
    try {
      const result = await jsonRpcCall(this.url, 'interop_checkAccessList', [entries, 'unsafe', descriptor], this.options);
      if (result !== null)
        return { status: 'no_verdict', reason: `${this.label}: answered ${JSON.stringify(result).slice(0, 80)}, not null` };
      return { status: 'valid' };
    } catch (err) {
      if (!(err instanceof JsonRpcAnswerError)) return { status: 'no_verdict', reason: (err as Error).message };
      const soft = FILTER_NO_VERDICT_CODES[err.code];
      if (soft) return { status: 'no_verdict', reason: `${this.label}: ${soft} (${err.code})` };
      return { status: 'invalid', code: err.code, message: err.rpcMessage };
    }
  }
}

/**
 * The filter's view compared with xmsg's: undefined when they agree or cannot be compared. Only settled verdicts that
 * the filter can judge from the message's own entries count: `unverified` (no source RPC), `future`/`unknown` (not
 * settled) and `access_list_mismatch` (a verdict on the transaction's declaration, which the replayed entries do not
 * carry) are left out.
 */
export function filterDivergence(
  xmsgStatus: string,
  answer: FilterAnswer,
): { xmsgStatus: string; filterStatus: 'valid' | 'invalid' } | undefined {
  if (answer.status === 'no_verdict' || !COMPARED.has(xmsgStatus)) return undefined;
  const xmsgValid = xmsgStatus === 'valid';
  if (xmsgValid === (answer.status === 'valid')) return undefined;
  return { xmsgStatus, filterStatus: answer.status };
}

const COMPARED: ReadonlySet<string> = new Set(['valid', 'invalid', 'expired', 'timestamp_mismatch']);
