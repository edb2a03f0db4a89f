import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Address, Hex } from 'viem';
import { checkDeclared, type InboxDeclarations, readInboxDeclarations } from '../chain/access-list.js';
import { decodeExecutingLog, EXECUTING_MESSAGE_TOPIC } from '../chain/inbox.js';
import { type BlockHeader, type ChainLog, type ChainRpc, LogRangeRefused, WrongChain } from '../chain/rpc.js';
import { firstLine } from '../errors.js';
import { CHECK_SLICE_MESSAGES, type CheckQueueData, sliceJobId } from '../jobs/checker.js';
import type { EventOutbox } from '../jobs/events-outbox.js';
import { type SliceBlock, type SliceMessage, sliceBlockOf, sliceMessage } from '../jobs/slice.js';
import type { Metrics } from '../metrics.js';
import { parseDeploymentMarker } from '../store/deployment.js';
import type { Keys } from '../store/keys.js';
import { messageDataOf } from '../store/messages.js';
import { defineScript } from '../store/scripts.js';
import type { DeploymentWatch } from './deployment.js';
import { Lease } from './lease.js';
import { LogRangeSize } from './log-range.js';
import type { SafetyTracker } from './safety.js';

export interface FollowerDeps {
  chainId: number;
  rpc: ChainRpc;
  /**
   * The chain was declared as `<chain id>=<url>`: each step asks the node its chain id with the heads (one batch), so
   * a node that answers for another chain is reported unhealthy, with that reason, and never followed.
   */
  checkChainId?: boolean;
  redis: Redis;
  keys: Keys;
  inbox: Address;
  checkQueue: Queue<CheckQueueData>;
  /** The bulk safety step, run after each step that read the heads and on every reorg. */
  safety: SafetyTracker;
  outbox: EventOutbox;
  /** The replica's deployment marker: checked with the cursor on every poll (a state loss). */
  deployment: DeploymentWatch;
  metrics: Metrics;
  log: Logger;
}

export interface FollowerOptions {
  pollIntervalMs: number;
  startBlocksBack: number;
  maxBlockRange: number;
  /** 0 disables the stall check. */
  headStallS: number;
  /** Consecutive failed steps (each already retried by the RPC client) before the chain is reported unhealthy. */
  failuresBeforeUnhealthy: number;
  /** Identifies this run of this replica in the lease. */
  owner: string;
  /** The replica's id stable across restarts, the owner id's part before `|` (XMSG_REPLICA_ID; src/watcher/lease.ts). */
  replica?: string;
}

export interface Cursor {
  number: bigint;
  hash: Hex;
}

/** How many recent block hashes are kept to find the common ancestor of a reorg. */
const RECENT_BLOCKS_KEPT = 2048;
/** Headers compared per round trip while walking back a reorg. */
const WALK_BACK_BATCH = 64;
/**
 * Messages per addBulk of slice jobs (about). One addBulk is one Redis transaction: a dense range's jobs in one would
 * hold every checker back; in bulks, checking starts while the rest of the range is being queued.
 */
export const ENQUEUE_SLICE = 500;
/** Blocks read with their transactions at once (in JSON-RPC batches of 16): bounds the answers held in memory. */
const FULL_BLOCK_READS_AT_ONCE = 64;

/** A fenced cursor write's answer: refused when this replica no longer holds the chain's lease. */
type FencedWrite = 'written' | 'not-lease-holder';
const fencedWrite = (raw: unknown): FencedWrite => (raw === 1 ? 'written' : 'not-lease-holder');

/** Exported for the fence's test (lease.test.ts). */
export const advanceCursorScript = defineScript(new URL('./lua/advanceCursor-3.lua', import.meta.url), {
  keys: ['lease', 'cursor', 'recentBlocks'],
  args: ['owner', 'number', 'hash', 'trimBelow'],
  list: 'blocks',
  reply: fencedWrite,
});

export const rewindCursorScript = defineScript(new URL('./lua/rewindCursor-3.lua', import.meta.url), {
  keys: ['lease', 'cursor', 'recentBlocks'],
  args: ['owner', 'number', 'hash'],
  reply: fencedWrite,
});

class LostLease extends Error {}
class ChainMovedDuringRead extends Error {}
/** The node refused eth_getLogs for a range of several blocks; the next step reads a smaller one. */
class RangeTooLarge extends Error {}

/**
 * Follows one chain for the whole cluster while it holds the chain's lease: reads new blocks in bounded ranges
 * from a cursor kept in Redis (so a restart backfills what it missed), queues each executing block's
 * ExecutingMessage logs as check jobs of up to CHECK_SLICE_MESSAGES messages, walks back reorgs, and hands head movements to the safety tracker.
 */
export class ChainFollower {
  private readonly lease: Lease;
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private failures = 0;
  private lastLatest?: { number: bigint; since: number };
  /**
   * The chain's cursor as this replica last wrote or read it under the current deployment marker, following or not:
   * what a follower writes back when Redis lost its state (docs/ARCHITECTURE.md §3), instead of starting at the head.
   */
  private remembered?: Cursor;
  /** Most blocks per log request now: maxBlockRange, smaller while the node refuses ranges that large. */
  private readonly logRange: LogRangeSize;

  readonly chainId: number;
  private readonly rpc: ChainRpc;
  private readonly checkChainId: boolean;
  private readonly redis: Redis;
  private readonly keys: Keys;
  private readonly inbox: Address;
  private readonly checkQueue: Queue<CheckQueueData>;
  private readonly safety: SafetyTracker;
  private readonly outbox: EventOutbox;
  private readonly deployment: DeploymentWatch;
  private readonly metrics: Metrics;
  private readonly log: Logger;

  constructor(
    deps: FollowerDeps,
    private readonly options: FollowerOptions,
  ) {
    const { chainId, redis, keys, metrics } = deps;
    this.chainId = chainId;
    this.rpc = deps.rpc;
    this.checkChainId = deps.checkChainId ?? false;
    this.redis = redis;
    this.keys = keys;
    this.inbox = deps.inbox;
    this.checkQueue = deps.checkQueue;
    this.safety = deps.safety;
    this.outbox = deps.outbox;
    this.deployment = deps.deployment;
    this.metrics = metrics;
    this.log = deps.log;
    // Long enough to survive a slow step, short enough that a dead replica's chain is picked up quickly.
    this.lease = new Lease(redis, keys.lease(chainId), options.owner, Math.max(15_000, options.pollIntervalMs * 10), options.replica);
    this.logRange = new LogRangeSize(options.maxBlockRange, (blocks) => metrics.logRangeBlocks.set({ chain_id: String(chainId) }, blocks));
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    await this.lease.release().catch(() => undefined);
  }

  private async run(): Promise<void> {
    while (this.running) {
      let caughtUp = true;
      try {
        if (await this.lease.acquireOrRenew()) caughtUp = await this.step();
        // Another replica follows the chain: remember where it is, and check the deployment marker (one read a poll).
        else await this.readCursor();
      } catch (err) {
        await this.onStepFailed(err);
        if (err instanceof RangeTooLarge) caughtUp = false;
      }
      if (this.running && caughtUp) await this.sleep(this.options.pollIntervalMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /**
   * One step: heads, then at most one range of new blocks. Returns true when there was nothing new to read: after a
   * range the loop polls again at once rather than sleeping, since blocks mined while the range was read (a burst, a
   * backlog, a busy checker delaying the timer) would otherwise wait a poll interval or more. Measured in `npm run
   * bench`: 40 blocks mined in 600 ms were read as 1 + 28 + 11 with 200 and 490 ms of sleep between them.
   */
  async step(): Promise<boolean> {
    const [latest, safe, finalized] = await Promise.all([
      this.rpc.header('latest'),
      this.rpc.header('safe'),
      this.rpc.header('finalized'),
      this.checkChainId ? this.rpc.checkChainId() : undefined,
    ]);
    if (!latest) throw new Error('node returned no latest block');
    const safeNumber = safe?.number ?? -1n;
    const finalizedNumber = finalized?.number ?? -1n;
    await this.recordHeads(latest.number, safeNumber, finalizedNumber);

    const cursor = await this.resumeCursor(latest.number);

    let caughtUp = true;
    if (cursor.number >= latest.number && cursor.number >= 0n) {
      // Nothing new to read, but the tip itself may have been replaced (or the chain shortened).
      const atCursor = latest.number === cursor.number ? latest : await this.rpc.header(cursor.number);
      if (atCursor?.hash !== cursor.hash) {
        await this.walkBack(cursor);
        caughtUp = false;
      }
    } else {
      const to = minBig(latest.number, cursor.number + BigInt(this.logRange.blocks));
      await this.processRange(cursor, to, finalizedNumber);
      caughtUp = false;
    }
    await this.healthy();
    if (safeNumber >= 0n) await this.safety.onHeads(this.chainId, safeNumber, finalizedNumber);
    return caughtUp;
  }

  /** Reads the blocks after the cursor up to `to` and queues their messages; on a reorg, walks back instead. */
  private async processRange(cursor: Cursor, to: bigint, finalized: bigint): Promise<void> {
    const from = cursor.number + 1n;
    // Above the finalized head every header is read and linked, so a reorg inside the range cannot slip by.
    const linked = to > finalized;
    const headers = new Map<bigint, BlockHeader>();
    const wanted = linked ? range(from, to) : [from, to];
    await this.readHeaders(wanted, headers);

    const first = headers.get(from)!;
    if (cursor.number >= 0n && first.parentHash.toLowerCase() !== cursor.hash.toLowerCase()) {
      await this.walkBack(cursor);
      return;
    }
    if (linked) {
      for (let n = from + 1n; n <= to; n++) {
        if (headers.get(n)!.parentHash !== headers.get(n - 1n)!.hash)
          throw new ChainMovedDuringRead(`block ${n} does not link to ${n - 1n}`);
      }
    }

    const logs = await this.rpc.logsInRange(this.inbox, [EXECUTING_MESSAGE_TOPIC], from, to).catch((err: unknown) => {
      if (!(err instanceof LogRangeRefused) || !this.logRange.refused(Number(to - from + 1n))) throw err;
      throw new RangeTooLarge(`${firstLine(err)}; reading ${this.logRange.blocks} blocks at a time`);
    });
    if (linked) {
      // The tip read again after the logs: unchanged means the logs came from the chain the headers describe.
      const tipAgain = await this.rpc.header(to);
      const staleLog = logs.find((l) => headers.get(l.blockNumber)?.hash !== l.blockHash);
      if (tipAgain?.hash !== headers.get(to)!.hash || staleLog) {
        throw new ChainMovedDuringRead(`chain ${this.chainId} changed while reading ${from}..${to}`);
      }
    } else {
      await this.readHeaders([...new Set(logs.map((l) => l.blockNumber))], headers);
    }

    await this.enqueue(logs, headers, await this.readDeclarations(logs));
    const kept = linked ? [...headers.values()] : [headers.get(to)!];
    await this.advanceCursor(headers.get(to)!, kept);
    this.metrics.blocksProcessed.inc({ chain_id: String(this.chainId) }, Number(to - from + 1n));
    this.logRange.read();
  }

  private async readHeaders(numbers: bigint[], into: Map<bigint, BlockHeader>): Promise<void> {
    const missing = numbers.filter((n) => !into.has(n));
    const got = await Promise.all(missing.map((n) => this.rpc.header(n)));
    got.forEach((h, i) => {
      if (!h) throw new ChainMovedDuringRead(`block ${missing[i]} is missing on chain ${this.chainId}`);
      into.set(h.number, h);
    });
  }

  /**
   * What each transaction with executing logs declares under the inbox in its access list, from one read of each
   * block that has such logs, with its transactions (receipts carry no access list).
   */
  private async readDeclarations(logs: ChainLog[]): Promise<Map<string, InboxDeclarations>> {
    const wanted = new Set(logs.map((l) => l.transactionHash.toLowerCase()));
    const blocks = [...new Set(logs.map((l) => l.blockHash))];
    const declarations = new Map<string, InboxDeclarations>();
    for (let i = 0; i < blocks.length; i += FULL_BLOCK_READS_AT_ONCE) {
      const slice = blocks.slice(i, i + FULL_BLOCK_READS_AT_ONCE);
      const read = await Promise.all(slice.map((hash) => this.rpc.blockTransactions(hash)));
      read.forEach((transactions, j) => {
        if (!transactions) throw new ChainMovedDuringRead(`block ${slice[j]} is no longer on chain ${this.chainId}`);
        for (const tx of transactions) {
          const hash = tx.hash.toLowerCase();
          if (wanted.has(hash)) declarations.set(hash, readInboxDeclarations(tx.accessList, this.inbox));
        }
      });
    }
    return declarations;
  }

  /**
   * One check job per slice of an executing block's messages (at most CHECK_SLICE_MESSAGES), id from the chain, the
   * block hash and the slice's place (docs/ARCHITECTURE.md §3): queued again after a crash, a slice collapses into
   * the first. Each message carries its access-list verdict. Jobs are added in bulks of about ENQUEUE_SLICE messages.
   */
  private async enqueue(logs: ChainLog[], headers: Map<bigint, BlockHeader>, declarations: Map<string, InboxDeclarations>): Promise<void> {
    const seenAt = Date.now();
    let bulk: Array<{ name: string; data: CheckQueueData; opts: { jobId: string } }> = [];
    let inBulk = 0;
    let seen = 0;
    // Queued as each bulk fills, so checking starts while the rest of a dense range is still being decoded.
    const queueBlock = async (block: SliceBlock, messages: SliceMessage[]) => {
      for (let i = 0; i < messages.length; i += CHECK_SLICE_MESSAGES) {
        const slice = messages.slice(i, i + CHECK_SLICE_MESSAGES);
        bulk.push({
          name: 'slice',
          data: { block, messages: slice },
          opts: { jobId: sliceJobId(this.chainId, block.blockHash, i / CHECK_SLICE_MESSAGES) },
        });
        inBulk += slice.length;
        if (inBulk >= ENQUEUE_SLICE) {
          await this.checkQueue.addBulk(bulk);
          bulk = [];
          inBulk = 0;
        }
      }
      seen += messages.length;
    };

    // In block order, and in log order within a block (as eth_getLogs answers; sorted to be sure): a block's logs are
    // queued together, and the same block always splits alike, so a slice id always names the same messages.
    const ordered = [...logs].sort((a, b) =>
      a.blockNumber === b.blockNumber ? Number(a.logIndex - b.logIndex) : a.blockNumber < b.blockNumber ? -1 : 1,
    );
    let block: { block: SliceBlock; messages: SliceMessage[] } | undefined;
    for (const log of ordered) {
      if (block && block.block.blockHash !== log.blockHash) {
        await queueBlock(block.block, block.messages);
        block = undefined;
      }
      const decoded = decodeExecutingLog(log);
      if (!decoded.ok) {
        this.metrics.malformedLogs.inc({ chain_id: String(this.chainId) });
        this.log.warn(
          {
            chainId: this.chainId,
            block: String(log.blockNumber),
            logIndex: String(log.logIndex),
            tx: log.transactionHash,
            problem: decoded.reason,
          },
          'skipping malformed ExecutingMessage log',
        );
        continue;
      }
      const declared = declarations.get(log.transactionHash.toLowerCase());
      if (!declared) throw new ChainMovedDuringRead(`transaction ${log.transactionHash} is not in block ${log.blockHash} any more`);
      const data = messageDataOf(this.chainId, log, decoded, headers.get(log.blockNumber)!.timestamp, seenAt);
      block ??= { block: sliceBlockOf(data), messages: [] };
      block.messages.push(sliceMessage(data, checkDeclared(declared, decoded.identifier, decoded.msgHash)));
    }
    if (block) await queueBlock(block.block, block.messages);
    if (bulk.length) await this.checkQueue.addBulk(bulk);
    if (seen) this.metrics.messagesSeen.inc({ executing_chain_id: String(this.chainId) }, seen);
  }

  private async walkBack(cursor: Cursor): Promise<void> {
    this.metrics.reorgs.inc({ chain_id: String(this.chainId) });
    const recent = await this.redis.zrevrangebyscore(this.keys.recentBlocks(this.chainId), String(cursor.number), '-inf', 'WITHSCORES');
    const known: Array<{ number: bigint; hash: string }> = [];
    for (let i = 0; i < recent.length; i += 2) known.push({ hash: recent[i]!, number: BigInt(recent[i + 1]!) });

    let ancestor: BlockHeader | undefined;
    for (let i = 0; i < known.length && !ancestor; i += WALK_BACK_BATCH) {
      const batch = known.slice(i, i + WALK_BACK_BATCH);
      const canonical = await Promise.all(batch.map((k) => this.rpc.header(k.number)));
      const match = batch.findIndex((k, j) => canonical[j]?.hash.toLowerCase() === k.hash.toLowerCase());
      if (match >= 0) ancestor = canonical[match];
    }
    if (!ancestor) {
      ancestor = await this.rpc.header('finalized');
      if (!ancestor)
        throw new Error(`reorg on chain ${this.chainId} deeper than the ${RECENT_BLOCKS_KEPT} recent blocks kept, and no finalized block`);
      this.log.error(
        { chainId: this.chainId, finalized: String(ancestor.number) },
        'reorg deeper than the recent blocks kept: resuming from the finalized head',
      );
    }
    const tip = (await this.rpc.header('latest'))?.hash ?? ancestor.hash;
    this.log.warn(
      {
        chainId: this.chainId,
        from: String(cursor.number),
        ancestor: String(ancestor.number),
        depth: String(cursor.number - ancestor.number),
      },
      'reorg: walking back to the common ancestor',
    );
    await this.safety.onReorg(this.chainId, ancestor.number, tip);
    const written = await rewindCursorScript.run(this.redis, {
      lease: this.keys.lease(this.chainId),
      cursor: this.keys.cursor(this.chainId),
      recentBlocks: this.keys.recentBlocks(this.chainId),
      owner: this.options.owner,
      number: String(ancestor.number),
      hash: ancestor.hash,
    });
    if (written !== 'written') throw new LostLease();
    this.remembered = { number: ancestor.number, hash: ancestor.hash };
  }

  /**
   * The cursor and the deployment marker, read at once: a cursor read under the marker this replica holds belongs to
   * the state it knows, and one read after a loss is never mistaken for it. A changed marker is handled first.
   */
  private async readCursor(): Promise<Cursor | undefined> {
    const replies = await this.redis.multi().get(this.keys.deployment).hgetall(this.keys.cursor(this.chainId)).exec();
    const failed = replies?.find(([err]) => err);
    if (!replies || failed) throw failed?.[0] ?? new Error('cursor read discarded');
    const marker = parseDeploymentMarker(replies[0]![1] as string | null);
    const raw = replies[1]![1] as Record<string, string>;
    const cursor = raw.number === undefined || raw.hash === undefined ? undefined : { number: BigInt(raw.number), hash: raw.hash as Hex };
    // Only under the marker held before this read: a cursor that came with a new marker may have been started at the
    // head by a replica that remembered nothing, and must not replace what this one remembers.
    if (cursor && marker?.id === this.deployment.current.id) this.remembered = cursor;
    await this.deployment.observe(marker);
    return cursor;
  }

  /**
   * Where this step reads on from: the cursor in Redis; when Redis has none but this replica remembers one (Redis lost
   * its state), that one, written back (fenced by the lease) so the blocks since are checked; else near the head, as
   * on a new deployment. After a loss each chain's resumption is reported in the `state_lost` alert's thread.
   */
  private async resumeCursor(latest: bigint): Promise<Cursor> {
    const cursor = await this.readCursor();
    if (cursor) return cursor;
    const remembered = this.remembered;
    const cursorNow = remembered ?? (await this.initialCursor(latest));
    const fromBlock = String(cursorNow.number + 1n);
    // Published before the cursor is written, which would hide it from a retry (docs/ARCHITECTURE.md §3).
    if (this.deployment.afterLoss) {
      const deploymentId = this.deployment.current.id;
      await this.outbox.publish({
        id: `chain_rescanned-${deploymentId}-${this.chainId}`,
        type: 'chain_rescanned',
        at: Date.now(),
        chainId: this.chainId,
        deploymentId,
        fromBlock,
        restored: remembered !== undefined,
      });
    }
    if (remembered) {
      await this.advanceCursor(remembered, [remembered]);
      this.log.warn(
        { chainId: this.chainId, from: fromBlock },
        'cursor missing in Redis: written back from memory; re-scanning from there',
      );
    } else {
      this.log.info({ chainId: this.chainId, from: fromBlock }, 'no saved cursor: starting behind the head');
    }
    return cursorNow;
  }

  private async initialCursor(latest: bigint): Promise<Cursor> {
    const start = maxBig(0n, latest - BigInt(this.options.startBlocksBack));
    if (start === 0n) return { number: -1n, hash: '0x' };
    const header = await this.rpc.header(start - 1n);
    if (!header) throw new ChainMovedDuringRead(`block ${start - 1n} is missing`);
    return { number: header.number, hash: header.hash };
  }

  private async advanceCursor(to: Cursor, kept: Cursor[]): Promise<void> {
    const written = await advanceCursorScript.run(this.redis, {
      lease: this.keys.lease(this.chainId),
      cursor: this.keys.cursor(this.chainId),
      recentBlocks: this.keys.recentBlocks(this.chainId),
      owner: this.options.owner,
      number: String(to.number),
      hash: to.hash,
      trimBelow: String(to.number - BigInt(RECENT_BLOCKS_KEPT)),
      blocks: kept.flatMap((h) => [String(h.number), h.hash]),
    });
    if (written !== 'written') throw new LostLease();
    this.remembered = { number: to.number, hash: to.hash };
  }

  private async recordHeads(latest: bigint, safe: bigint, finalized: bigint): Promise<void> {
    await this.redis.hset(this.keys.heads(this.chainId), {
      latest: String(latest),
      safe: String(safe),
      finalized: String(finalized),
      updatedAt: String(Date.now()),
    });

    const now = Date.now();
    if (!this.lastLatest || latest !== this.lastLatest.number) this.lastLatest = { number: latest, since: now };
    const stalledMs = now - this.lastLatest.since;
    if (this.options.headStallS > 0 && stalledMs > this.options.headStallS * 1000) {
      await this.setHealth(false, `head stalled at block ${latest} for ${Math.round(stalledMs / 1000)} s`);
    }
  }

  private async healthy(): Promise<void> {
    this.failures = 0;
    const stalled = this.options.headStallS > 0 && this.lastLatest && Date.now() - this.lastLatest.since > this.options.headStallS * 1000;
    if (!stalled) await this.setHealth(true, 'answering and advancing');
  }

  private async onStepFailed(err: unknown): Promise<void> {
    if (err instanceof LostLease) {
      this.log.warn({ chainId: this.chainId }, 'lost the chain lease mid-step; another replica follows it now');
      return;
    }
    if (err instanceof RangeTooLarge) {
      this.log.warn({ chainId: this.chainId, reason: err.message }, 'log range too large; splitting it');
      return;
    }
    if (err instanceof ChainMovedDuringRead) {
      this.log.info({ chainId: this.chainId, reason: err.message }, 'chain moved during the read; reading again');
      return;
    }
    this.failures++;
    this.log.warn({ chainId: this.chainId, err: firstLine(err), failures: this.failures }, 'chain step failed');
    // A node of another chain does not get better by asking again: unhealthy at once, with the chain it answers for.
    if (err instanceof WrongChain) {
      await this.setHealth(false, `wrong node: ${err.message}`).catch((e) => this.log.error({ err: e }, 'cannot record chain health'));
    } else if (this.failures >= this.options.failuresBeforeUnhealthy) {
      await this.setHealth(false, `RPC failing: ${firstLine(err)}`).catch((e) => this.log.error({ err: e }, 'cannot record chain health'));
    }
  }

  /**
   * Records a health change and publishes it. The event id carries the episode number, read before and written
   * after publishing, so a retry after a crash republishes the same event instead of a new one.
   */
  private async setHealth(healthy: boolean, reason: string): Promise<void> {
    this.metrics.chainHealthy.set({ chain_id: String(this.chainId) }, healthy ? 1 : 0);
    const key = this.keys.health(this.chainId);
    const current = await this.redis.hgetall(key);
    const wasHealthy = current.healthy !== '0';
    if (wasHealthy === healthy) return;
    const episode = Number(current.episode ?? 0) + (healthy ? 0 : 1);
    const type = healthy ? 'chain_recovered' : 'chain_unhealthy';
    await this.outbox.publish({ id: `${type}-${this.chainId}-${episode}`, type, at: Date.now(), chainId: this.chainId, reason });
    await this.redis.hset(key, { healthy: healthy ? '1' : '0', episode: String(episode), reason, since: String(Date.now()) });
    this.log[healthy ? 'info' : 'warn']({ chainId: this.chainId, reason }, healthy ? 'chain recovered' : 'chain unhealthy');
  }
}

function range(from: bigint, to: bigint): bigint[] {
  const out: bigint[] = [];
  for (let n = from; n <= to; n++) out.push(n);
  return out;
}
const minBig = (a: bigint, b: bigint) => (a < b ? a : b);
const maxBig = (a: bigint, b: bigint) => (a > b ? a : b);
