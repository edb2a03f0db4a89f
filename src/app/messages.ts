import type { Hex } from 'viem';
import { InteropFilterClient } from '../chain/interop-filter.js';
import { ChainRpc } from '../chain/rpc.js';
import { SourceBlocks } from '../chain/source-blocks.js';
import { askSupernode, describeSecondOpinion, SupernodeClient, SupernodeHeads } from '../chain/supernode.js';
import type { ValidityRules } from '../chain/validity.js';
import type { Config } from '../config.js';
import type { MessageSnapshot } from '../events/types.js';
import { Checker, type CheckerOptions, createCheckQueue } from '../jobs/checker.js';
import { EventOutbox } from '../jobs/events-outbox.js';
import { FilterCrossCheck } from '../jobs/filter-cross-check.js';
import { MessageLookup } from '../jobs/lookup.js';
import type { Metrics } from '../metrics.js';
import { MessageStore } from '../store/messages.js';
import { SafetyTracker } from '../watcher/safety.js';
import type { Shared } from './shared.js';

/**
 * The message side of a replica (docs/ARCHITECTURE.md §1, steps 1–4 and 8): the chains' RPC clients, the message
 * store, the check queue and its checker, the safety step the followers run, the on-demand lookups, the events
 * outbox, and the second opinions (op-interop-filter after each check, queued with its worker; op-supernode for
 * violation pages).
 */
export function buildMessages(config: Config, shared: Shared) {
  const { redis, connection, prefix, metrics } = shared;
  const rpcs = new Map(
    config.chains.map((c) => [c.chainId, new ChainRpc(c.chainId, c.rpcUrl, config.rpc, metrics, { confirmChainId: c.unconfirmed })]),
  );
  const sources = new SourceBlocks(rpcs);
  const rules: ValidityRules = { dependencySet: config.dependencySet, expiryWindowS: config.expiryWindowS };
  const store = new MessageStore(redis, prefix, config.droppedRetentionS);
  const outbox = new EventOutbox(connection, prefix);
  const checkQueue = createCheckQueue(connection, prefix);
  const secondOpinions = secondOpinionsOf(config, metrics);
  const crossCheck = config.interopFilterRpc
    ? new FilterCrossCheck({ ...shared, filter: new InteropFilterClient(config.interopFilterRpc, secondOpinions.rpc), store, outbox })
    : undefined;
  const checker = new Checker({ ...shared, store, sources, rpcs, outbox, inbox: config.inbox, crossCheck }, checkerOptions(config, rules));
  const safety = new SafetyTracker({ ...shared, store, rpcs, outbox, checkQueue });
  const lookup = new MessageLookup({ rpcs, inbox: config.inbox, sources, rules, store, lookbackBlocks: config.statusLookbackBlocks });
  return { rpcs, store, outbox, checkQueue, checker, crossCheck, safety, lookup, secondOpinion: secondOpinions.secondOpinion };
}

/**
 * The supernodes (XMSG_SUPERNODE_RPCS): asked about each cross-safety violation's block when its alert opens, and for
 * their gauges at scrape time (cached, so a scrape costs them at most one call per poll interval). One retry only; a
 * violation page waits for their answer SECOND_OPINION_BUDGET_MS at most, whatever the timeout (askSupernode).
 */
function secondOpinionsOf(config: Config, metrics: Metrics) {
  const rpc = { timeoutMs: config.rpc.timeoutMs, retries: Math.min(1, config.rpc.retries), retryDelayMs: config.rpc.retryDelayMs };
  const supernodes = config.supernodeRpcs.map((url) => new SupernodeClient(url, rpc));
  if (!supernodes.length) return { rpc, secondOpinion: undefined };
  const heads = new SupernodeHeads(supernodes, Math.max(config.pollIntervalMs, 1000));
  metrics.readSupernodeFrom(() => heads.read());
  const secondOpinion = async (m: MessageSnapshot, nodeSafeHead: string | undefined) => {
    const block = { chainId: m.chainId, number: BigInt(m.blockNumber), hash: m.blockHash as Hex, timestamp: BigInt(m.blockTimestamp) };
    return describeSecondOpinion(block, nodeSafeHead, await Promise.all(supernodes.map((s) => askSupernode(s, block))));
  };
  return { rpc, secondOpinion };
}

function checkerOptions(config: Config, rules: ValidityRules): CheckerOptions {
  return {
    rules,
    promotionDeadlineS: config.promotionDeadlineS,
    pendingDeadlineS: config.pendingDeadlineS,
    retryBaseMs: config.recheck.baseMs,
    retryMaxMs: config.recheck.maxMs,
  };
}
