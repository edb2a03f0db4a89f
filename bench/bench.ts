/**
 * `npm run bench`: xmsg's throughput (and its limit without the queue), RPC requests per message, backfill speed,
 * Redis bytes per tracked message and alert latency, on a local devnet and the loopback Slack, each figure printed
 * with its target. Bounded in time; on any failure or timeout it still stops its chains and deletes its Redis keys.
 *
 * `npm run bench -- --markdown` also prints the table as Markdown (for the README); `--only=throughput` (or backfill,
 * takeover, latency, backlog, storm, scaling) runs one section, for comparing changes.
 */
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { Redis } from 'ioredis';
import { anvilBinaryPath } from '../src/devnet/anvil.js';
import { startDevnet } from '../src/devnet/devnet.js';
import { redisAnswers } from '../src/devnet/redis-server.js';
import { type FakeSlack, startFakeSlack } from '../test/fakes/slack.js';
import { REDIS_URL } from '../test/helpers/xmsg.js';
import { type BackfillResult, runBackfill } from './backfill.js';
import { type BacklogResult, runBacklog } from './backlog.js';
import { BenchContext, POLL_INTERVAL_MS } from './context.js';
import { type LatencyResult, runLatency, SLACK } from './latency.js';
import { describeKinds } from './memory.js';
import { type Figure, figure, formatMarkdown, formatTable, num } from './report.js';
import { runScaling, type ScalingResult } from './scaling.js';
import { runStorm, type StormResult } from './storm.js';
import { runTakeover, type TakeoverResult } from './takeover.js';
import { runThroughput, type ThroughputResult } from './throughput.js';

const CHAIN_IDS = [971, 972];
// The storm and the scaling runs each get a devnet of their own, started and stopped in the section: their full
// blocks then slow no other section's chains (see below), and each scaling run starts on fresh chains.
const STORM_CHAIN_IDS = [981, 982, 983, 984];
const SCALING_CHAIN_IDS = [991, 992];
// anvil's default hardfork mines ever slower as the chain grows (10,000 blocks take minutes); cancun with pruned
// state history mines them in about a second. xmsg reads the same headers and logs either way.
const ANVIL_ARGS = ['--hardfork', 'cancun', '--prune-history', '100'];
/** The whole run; past it the bench cleans up and exits 1. */
const DEADLINE_MS = 300_000;

const TARGETS = {
  throughput: 5_000,
  ofLimit: 0.5,
  redisCpuUsPerMessage: 30,
  rpcPerMessage: 0.05,
  backfillS: 10,
  takeoverS: 10,
  bytesPerMessage: 1024,
  latencyP99Ms: 1_000 + POLL_INTERVAL_MS,
  backlogP99Ms: 3_000,
  stormRootMs: 2_000,
};

let ctx: BenchContext | undefined;
/** The devnet of the section running on one of its own, if any: cleaned up with the rest on a failure or timeout. */
let sectionCtx: BenchContext | undefined;
let slack: FakeSlack | undefined;
let cleaning: Promise<void> | undefined;

function cleanup(): Promise<void> {
  return (cleaning ??= (async () => {
    await slack?.stop().catch(() => undefined);
    await sectionCtx?.cleanup();
    await ctx?.cleanup();
  })());
}

/** Runs `section` on a devnet of its own with `chainIds`, stopped (and its Redis keys deleted) when it ends. */
async function onOwnDevnet<T>(chainIds: number[], section: (c: BenchContext) => Promise<T>): Promise<T> {
  const own = new BenchContext(await startDevnet({ chainIds, anvilArgs: ANVIL_ARGS }));
  sectionCtx = own;
  try {
    return await section(own);
  } finally {
    sectionCtx = undefined;
    await own.cleanup();
  }
}

async function bail(why: string, code: number): Promise<never> {
  console.error(`bench: ${why}; cleaning up`);
  await cleanup();
  process.exit(code);
}

function machine(): string {
  const anvil = spawnSync(anvilBinaryPath(), ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0] ?? 'anvil ?';
  return `${cpus().length} cores (${cpus()[0]?.model.trim() ?? '?'}), node ${process.version}, ${anvil.replace('Version: ', '')}`;
}

async function redisVersion(): Promise<string> {
  const redis = new Redis(REDIS_URL);
  try {
    return /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? '?';
  } finally {
    redis.disconnect();
  }
}

const seconds = (ms: number) => `${num(ms / 1000, 2)} s`;

function throughputFigures(t: ThroughputResult): Figure[] {
  const rate = t.messages / (t.endToEndMs / 1000);
  const limitRate = t.limit.messages / (t.limit.ms / 1000);
  const ratio = rate / limitRate;
  const floorRate = t.queueFloor.jobs / (t.queueFloor.ms / 1000);
  const limitUsPerMessage = (t.limit.ms * 1000) / t.limit.messages;
  const floorUsPerJob = (t.queueFloor.cpu.processMs * 1000) / t.queueFloor.jobs;
  const ceiling = limitUsPerMessage / (limitUsPerMessage + floorUsPerJob);
  const perMessage = t.rpcRequests / t.messages;
  const bytes = t.memory.bytes / t.tracked;
  const grownBytes = t.usedMemoryDelta / t.tracked;
  const redisUs = (t.cpu.redisMs * 1000) / t.messages;
  return [
    figure(
      'throughput, end to end',
      `${num(rate)} msg/s`,
      { text: `≥ ${num(TARGETS.throughput)} msg/s`, pass: rate >= TARGETS.throughput },
      `${num(t.messages)} valid messages in ${t.blocks} blocks of ${t.perBlock}, one anvil_mine (${num(t.miningMs)} ms of it) to the last status stored: ${seconds(t.endToEndMs)}; CPU per message: ${num((t.cpu.processMs * 1000) / t.messages)} µs in xmsg's process (with the devnet's RPC proxy; the limit's whole run: ${num(limitUsPerMessage)} µs), ${num(redisUs)} µs in Redis. xmsg's one Node thread bounds the rate: beside the limit's work (which includes the block reads with transactions and the access-list checks, three keccak-256 per message) it decodes the logs into jobs, queues them, and writes each record`,
    ),
    figure(
      'throughput limit (no queue)',
      `${num(limitRate)} msg/s`,
      undefined,
      `same headers, logs, blocks with their transactions, validateExecuting and access-list checks of the same ${num(t.limit.messages)} logs via the same proxy, no BullMQ, no Redis: ${seconds(t.limit.ms)}`,
    ),
    figure(
      'throughput / limit',
      `${num(ratio * 100)} %`,
      { text: `≥ ${num(TARGETS.ofLimit * 100)} %`, pass: ratio >= TARGETS.ofLimit },
      `the end-to-end time includes anvil_mine (${num(t.miningMs)} ms) and xmsg's queue and store work, all on one Node thread (see the first note): ${num((t.cpu.processMs * 1000) / t.messages)} µs of CPU per message against the limit's ${num(limitUsPerMessage)} µs`,
    ),
    figure(
      'Redis CPU per message',
      `${num(redisUs)} µs`,
      { text: `≤ ${num(TARGETS.redisCpuUsPerMessage)} µs`, pass: redisUs <= TARGETS.redisCpuUsPerMessage },
      `used_cpu_sys + used_cpu_user of the Redis server from anvil_mine to the last status stored, / ${num(t.messages)} messages (one check job per block slice, its records written in one script call)`,
    ),
    figure(
      'BullMQ alone (no-op jobs)',
      `${num(floorRate)} jobs/s`,
      undefined,
      `${num(t.queueFloor.jobs)} jobs, one per message as before batched checks, with the check queue's options, completed by a worker of the checker's concurrency that does nothing: ${seconds(t.queueFloor.ms)}; CPU per job: ${num(floorUsPerJob)} µs in this process, ${num((t.queueFloor.cpu.redisMs * 1000) / t.queueFloor.jobs)} µs in Redis: one job per message could not reach more than ${num(ceiling * 100)} % of the limit here, hence slices`,
    ),
    figure(
      'RPC requests per message',
      num(perMessage, 4),
      { text: `≤ ${TARGETS.rpcPerMessage}`, pass: perMessage <= TARGETS.rpcPerMessage },
      `${num(t.rpcRequests)} calls (xmsg_rpc_requests_total, idle polling of both chains included) for ${num(t.messages)} messages`,
    ),
    figure(
      'Redis memory per tracked message',
      `${num(grownBytes)} B`,
      { text: `≤ ${num(TARGETS.bytesPerMessage)} B`, pass: grownBytes <= TARGETS.bytesPerMessage },
      `used_memory's growth from before the mining to the last status stored (records, indexes, queues, allocator) / ${num(t.tracked)} tracked; MEMORY USAGE of the prefix's ${num(t.memory.keys)} keys: ${num(bytes)} B per message, ${describeKinds(t.memory, t.tracked)}`,
    ),
  ];
}

function backfillFigure(b: BackfillResult, label: string): Figure {
  const rate = (b.blocksPerChain * b.chains) / (b.cursorMs / 1000);
  return figure(
    `backfill, ${label}`,
    `${num(b.blocksPerChain)} blocks in ${seconds(b.cursorMs)}`,
    { text: `< ${TARGETS.backfillS} s`, pass: b.cursorMs < TARGETS.backfillS * 1000 },
    `${b.chains} chains × ${num(b.blocksPerChain)} blocks (${num(rate)} blocks/s in all), ${b.messages} messages in the gap all checked after ${seconds(b.settledMs)}; ${num(b.rpcRequests)} RPC calls`,
  );
}

function takeoverFigure(t: TakeoverResult): Figure {
  return figure(
    'killed -9 and started again: caught up',
    `${num(t.blocksPerChain)} blocks in ${seconds(t.caughtUpMs)}`,
    { text: `< ${TARGETS.takeoverS} s`, pass: t.caughtUpMs < TARGETS.takeoverS * 1000 },
    `a replica with XMSG_REPLICA_ID in its own process, killed -9; ${t.chains} chains × ${num(t.blocksPerChain)} blocks, ${t.messages} messages in the last; timed from the process spawned (its start included) to every cursor at its head and every message stored; its earlier run's leases still had ${seconds(t.leaseLeftMs)} to live and were taken over`,
  );
}

function latencyFigure(l: LatencyResult): Figure {
  return figure(
    `alert latency, ${l.replicas} replica${l.replicas === 1 ? '' : 's'} (p50 / p99)`,
    `${num(l.p50)} / ${num(l.p99)} ms`,
    { text: `p99 < ${num(TARGETS.latencyP99Ms)} ms`, pass: l.p99 < TARGETS.latencyP99Ms },
    `${l.samples.length} alerts, max ${num(l.max)} ms`,
  );
}

function backlogFigure(b: BacklogResult, followUps: number): Figure {
  return figure(
    'root latency behind a follow-up backlog (p50 / p99)',
    `${num(b.p50)} / ${num(b.p99)} ms`,
    { text: `p99 < ${num(TARGETS.backlogP99Ms)} ms`, pass: b.p99 < TARGETS.backlogP99Ms },
    `XMSG_CHAT_MAX_PER_S=1 (Slack's pace); ${b.samples.length} new alerts, each sent right after another alert grew by ${followUps} occurrences (${num(b.queuedJobs)} chat jobs queued, median), max ${num(b.max)} ms; ${b.posts} posts to Slack in ${seconds(b.runMs)}`,
  );
}

function stormFigures(s: StormResult): Figure[] {
  const rate = (s.stormChains * s.perChain) / (s.endToEndMs / 1000);
  return [
    figure(
      `storm: ${num(s.perChain)} messages in one block on each of ${s.stormChains} chains`,
      `${num(rate)} msg/s`,
      { text: `≥ ${num(TARGETS.throughput)} msg/s`, pass: rate >= TARGETS.throughput },
      `${num(s.stormChains * s.perChain)} valid messages, one block per chain (${num(Math.ceil(s.perChain / s.perTx))} MessageBatcher transactions of ${num(s.perTx)}: anvil refuses one HTTP request of all 5,000 with their access list; ${num(Number(s.blockGas) / 1e6)} M gas of the 1,000 M block gas limit), the ${s.stormChains} anvil_mine sent together (${num(s.miningMs)} ms until the last answered) to the last status stored: ${seconds(s.endToEndMs)}; one replica`,
    ),
    figure(
      'storm: root of an invalid message on a fourth chain',
      `${num(s.rootMs)} ms`,
      { text: `< ${num(TARGETS.stormRootMs)} ms`, pass: s.rootMs < TARGETS.stormRootMs },
      `sent right after the storm's anvil_mine calls, timed from just before its transaction is sent to its root at the loopback Slack, while the same replica processes the storm`,
    ),
  ];
}

function scalingFigure(runs: ScalingResult[]): Figure {
  const rates = runs.map((r) => ({ replicas: r.replicas, rate: r.messages / (r.endToEndMs / 1000), ms: r.endToEndMs }));
  return figure(
    `throughput, ${rates.map((r) => r.replicas).join(' / ')} replica processes on one Redis`,
    `${rates.map((r) => num(r.rate)).join(' / ')} msg/s`,
    undefined,
    `the throughput workload (${num(runs[0]?.messages ?? 0)} messages) with each replica a process of its own (node src/main.ts), each run on fresh chains: ${rates.map((r) => `${r.replicas}: ${seconds(r.ms)}`).join(', ')}; one replica holds each chain's lease, every replica's checker takes check jobs; ${cpus().length} cores for the replicas, the devnet's RPC proxy (in the bench's process), anvil and Redis`,
  );
}

async function main(): Promise<void> {
  const deadline = setTimeout(() => void bail(`not finished after ${DEADLINE_MS / 1000} s`, 1), DEADLINE_MS);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void bail(`got ${signal}`, 130));

  if (!(await redisAnswers(REDIS_URL))) return bail(`Redis is not reachable at ${REDIS_URL}; start one (redis-server) or set REDIS_URL`, 1);
  const about = `${machine()}, redis ${await redisVersion()}`;
  console.log(`xmsg bench: ${about}`);
  console.log(
    `poll interval ${POLL_INTERVAL_MS} ms; chains ${CHAIN_IDS.join(', ')} (anvil ${ANVIL_ARGS.join(' ')}); deadline ${DEADLINE_MS / 1000} s\n`,
  );
  const started = performance.now();
  const step = (what: string) => console.log(`[${seconds(performance.now() - started).padStart(8)}] ${what}`);

  ctx = new BenchContext(await startDevnet({ chainIds: CHAIN_IDS, anvilArgs: ANVIL_ARGS }));
  slack = await startFakeSlack({ token: SLACK.token });
  const figures: Figure[] = [];
  const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
  const runs = (section: string) => only === undefined || only === section;

  if (runs('backfill')) {
    step('backfill: anvil labels (finalized trails the head by 64)');
    figures.push(
      backfillFigure(
        await runBackfill(ctx, { blocks: 10_000, messageBlocks: 10, perMessageBlock: 50, finalized: 'trailing', timeoutMs: 30_000 }),
        'finalized 64 behind',
      ),
    );
    step('backfill: nothing finalized (every header read and linked)');
    figures.push(
      backfillFigure(
        await runBackfill(ctx, { blocks: 10_000, messageBlocks: 10, perMessageBlock: 50, finalized: 'none', timeoutMs: 30_000 }),
        'nothing finalized',
      ),
    );
  }
  if (runs('takeover')) {
    step('takeover: a replica killed -9 and started again, 10,000 blocks behind');
    figures.push(takeoverFigure(await runTakeover(ctx, { blocks: 10_000, messages: 100, timeoutMs: 30_000 })));
  }
  // After backfill and takeover: anvil mines empty blocks far slower once a chain holds the throughput run's 40 full
  // blocks (10,000 empty blocks took minutes instead of seconds), which would time the devnet, not xmsg.
  if (runs('throughput')) {
    step('throughput: 40 blocks × 500 messages');
    figures.push(...throughputFigures(await runThroughput(ctx, { blocks: 40, perBlock: 500, timeoutMs: 60_000 })));
  }
  if (runs('scaling')) {
    const scaling: ScalingResult[] = [];
    for (const replicas of [1, 2]) {
      step(`scaling: throughput workload, 40 blocks × 500 messages, ${replicas} replica process(es), own devnet`);
      scaling.push(await onOwnDevnet(SCALING_CHAIN_IDS, (c) => runScaling(c, { replicas, blocks: 40, perBlock: 500, timeoutMs: 60_000 })));
    }
    figures.push(scalingFigure(scaling));
  }
  if (runs('storm')) {
    step('storm: 5,000 messages in one block on each of 3 chains, an invalid message on a fourth, own devnet');
    figures.push(
      ...stormFigures(await onOwnDevnet(STORM_CHAIN_IDS, (c) => runStorm(c, slack!, { perChain: 5_000, perTx: 1_000, timeoutMs: 60_000 }))),
    );
  }
  if (runs('latency')) {
    for (const replicas of [1, 3]) {
      step(`alert latency: ${replicas} replica(s), 200 alerts`);
      figures.push(latencyFigure(await runLatency(ctx, slack, { replicas, alerts: 200, warmup: 2, timeoutMs: 10_000 })));
    }
  }
  if (runs('backlog')) {
    step('root latency behind a follow-up backlog: 10 rounds of 300 follow-ups, then a new alert');
    figures.push(backlogFigure(await runBacklog(ctx, slack, { rounds: 10, followUps: 300, timeoutMs: 20_000 }), 300));
  }
  step('done');

  clearTimeout(deadline);
  await cleanup();
  console.log(`\n${formatTable(figures)}`);
  const missed = figures.filter((f) => f.pass === false).length;
  const targets = figures.filter((f) => f.pass !== undefined).length;
  console.log(
    `\n${targets - missed} of ${targets} targets met; whole run ${seconds(performance.now() - started)}; poll interval ${POLL_INTERVAL_MS} ms; alert latency with XMSG_ALERT_GROUP_WINDOW_S=1, XMSG_CHAT_MAX_PER_S=1000`,
  );
  if (process.argv.includes('--markdown')) console.log(`\n${formatMarkdown(figures, about)}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => bail(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`, 1),
);
