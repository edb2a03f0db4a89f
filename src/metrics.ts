import type { Worker } from 'bullmq';
import type { Logger } from 'pino';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * One registry per xmsg instance (not prom-client's global one), so several instances can live in one process,
 * as they do in tests. Gauges that describe cluster-wide state are filled from Redis at scrape time (the /metrics
 * route, src/http/api.ts), so every replica reports the same figures.
 */
export function createMetrics() {
  const registry = new Registry();
  let parkedSource: (() => Promise<Record<string, number>>) | undefined;
  let failsafeSource: (() => Promise<Record<string, number>>) | undefined;
  let supernodeSource: (() => Promise<SupernodeReading>) | undefined;
  collectDefaultMetrics({ register: registry, prefix: 'xmsg_process_' });
  return {
    registry,
    messageStatus: new Gauge({
      name: 'xmsg_message_status',
      help: 'Tracked executing messages by executing chain, initiating chain and validity status',
      labelNames: ['executing_chain_id', 'initiating_chain_id', 'status'] as const,
      registers: [registry],
    }),
    messagesSeen: new Counter({
      name: 'xmsg_messages_seen_total',
      help: "Executing messages found by this replica's watcher",
      labelNames: ['executing_chain_id'] as const,
      registers: [registry],
    }),
    malformedLogs: new Counter({
      name: 'xmsg_malformed_logs_total',
      help: 'Logs from the inbox that are not well-formed ExecutingMessage events, skipped',
      labelNames: ['chain_id'] as const,
      registers: [registry],
    }),
    chainHead: new Gauge({
      name: 'xmsg_chain_head',
      help: 'Block number of each chain head label (latest, safe, finalized) and of the watcher cursor',
      labelNames: ['chain_id', 'label'] as const,
      registers: [registry],
    }),
    chainHealthy: new Gauge({
      name: 'xmsg_chain_healthy',
      help: '1 when the chain answers and its head advances, 0 otherwise',
      labelNames: ['chain_id'] as const,
      registers: [registry],
    }),
    events: new Counter({
      name: 'xmsg_events_total',
      help: 'Domain events delivered, by type',
      labelNames: ['type'] as const,
      registers: [registry],
    }),
    rpcRequests: new Counter({
      name: 'xmsg_rpc_requests_total',
      help: 'JSON-RPC calls made, by chain and method (each call of a batch counts)',
      labelNames: ['chain_id', 'method'] as const,
      registers: [registry],
    }),
    rpcErrors: new Counter({
      name: 'xmsg_rpc_errors_total',
      help: 'Failed JSON-RPC HTTP requests (before retries), by chain',
      labelNames: ['chain_id'] as const,
      registers: [registry],
    }),
    reorgs: new Counter({
      name: 'xmsg_reorgs_total',
      help: 'Reorgs detected by the watcher, by chain',
      labelNames: ['chain_id'] as const,
      registers: [registry],
    }),
    blocksProcessed: new Counter({
      name: 'xmsg_blocks_processed_total',
      help: "Blocks scanned by this replica's watcher, by chain",
      labelNames: ['chain_id'] as const,
      registers: [registry],
    }),
    logRangeBlocks: new Gauge({
      name: 'xmsg_log_range_blocks',
      help: "Blocks this replica's watcher asks eth_getLogs for at once, by chain (XMSG_MAX_BLOCK_RANGE unless the node refused larger ranges)",
      labelNames: ['chain_id'] as const,
      registers: [registry],
    }),
    alertChanges: new Counter({
      name: 'xmsg_alert_changes_total',
      help: 'Alert changes applied by this replica, by kind and action (opened, grew, ack, resolve, escalate, ...)',
      labelNames: ['kind', 'action'] as const,
      registers: [registry],
    }),
    escalations: new Counter({
      name: 'xmsg_escalations_total',
      help: 'On-call mentions made for unacknowledged or paging alerts, by kind',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    chatDeliveries: new Counter({
      name: 'xmsg_chat_deliveries_total',
      help: 'Chat deliveries by platform and outcome (posted, retried, rejected; gone: a thread or root found deleted; reposted: a deleted root posted again; parked: dropped for a parked alert)',
      labelNames: ['platform', 'outcome'] as const,
      registers: [registry],
    }),
    chatCalls: new Counter({
      name: 'xmsg_chat_calls_total',
      help: 'Chat API calls made by the outbox, by platform and kind (post: roots, replies, notices; edit: root edits and lookups), each spaced by XMSG_CHAT_MAX_PER_S',
      labelNames: ['platform', 'kind'] as const,
      registers: [registry],
    }),
    chatParked: new Gauge({
      name: 'xmsg_chat_parked_alerts',
      help: 'Alerts whose chat deliveries on a platform are parked (their thread kept failing), by platform, cluster-wide',
      labelNames: ['platform'] as const,
      registers: [registry],
      async collect() {
        if (!parkedSource) return;
        const counts = await parkedSource();
        this.reset();
        for (const [platform, n] of Object.entries(counts)) this.set({ platform }, n);
      },
    }),
    /** Where `chatParked` reads its figures at scrape time: the chat outbox, which keeps parked alerts in Redis. */
    readChatParkedFrom(source: () => Promise<Record<string, number>>): void {
      parkedSource = source;
    },
    terminalStatusChanges: new Counter({
      name: 'xmsg_terminal_status_changes_total',
      help: "Messages whose settled status flipped between valid and invalid (op-interop-mon's terminal_status_changes), by executing and initiating chain",
      labelNames: ['executing_chain_id', 'initiating_chain_id'] as const,
      registers: [registry],
    }),
    initiatingReorgs: new Counter({
      name: 'xmsg_initiating_reorgs_total',
      help: 'Tracked messages re-checked because their initiating chain reorged past their initiating block, by executing and initiating chain',
      labelNames: ['executing_chain_id', 'initiating_chain_id'] as const,
      registers: [registry],
    }),
    crossSafetyViolations: new Counter({
      name: 'xmsg_cross_safety_violations_total',
      help: 'Invalid executing messages found in a cross-safe block (cross_safety_violation events handled), by executing and initiating chain',
      labelNames: ['executing_chain_id', 'initiating_chain_id'] as const,
      registers: [registry],
    }),
    blockRange: new Gauge({
      name: 'xmsg_block_range',
      help: 'Lowest and highest block of the tracked messages, cluster-wide: side=executing (their executing blocks on chain_id) or initiating (their initiating blocks on chain_id)',
      labelNames: ['chain_id', 'side', 'range_type'] as const,
      registers: [registry],
    }),
    filterDivergence: new Counter({
      name: 'xmsg_filter_divergence_total',
      help: "Executing messages on which op-interop-filter's interop_checkAccessList disagreed with xmsg's settled status",
      labelNames: ['xmsg_status', 'filter_status'] as const,
      registers: [registry],
    }),
    supernodeUp: new Gauge({
      name: 'xmsg_supernode_up',
      help: 'Per op-supernode endpoint (host:port): 1 when it answered supernode_syncStatus, 0 otherwise (asked at scrape time, cached)',
      labelNames: ['endpoint'] as const,
      registers: [registry],
      async collect() {
        if (!supernodeSource) return;
        const { up } = await supernodeSource();
        this.reset();
        for (const [endpoint, ok] of up) this.set({ endpoint }, ok ? 1 : 0);
      },
    }),
    supernodeSafeHead: new Gauge({
      name: 'xmsg_supernode_safe_head',
      help: "Per chain, the supernodes' cross_safe (safe_l2) and finalized (finalized_l2) heads: the lowest among those that answered",
      labelNames: ['chain_id', 'level'] as const,
      registers: [registry],
      async collect() {
        if (!supernodeSource) return;
        const { heads } = await supernodeSource();
        this.reset();
        for (const [chainId, h] of heads) {
          this.set({ chain_id: String(chainId), level: 'cross_safe' }, Number(h.safe));
          this.set({ chain_id: String(chainId), level: 'finalized' }, Number(h.finalized));
        }
      },
    }),
    /** Where the supernode gauges read at scrape time: the supernodes themselves, through a short cache. */
    readSupernodeFrom(source: () => Promise<SupernodeReading>): void {
      supernodeSource = source;
    },
    failsafeEnabled: new Gauge({
      name: 'xmsg_failsafe_enabled',
      help: 'The interop failsafe of each admin endpoint (host:port) as last read: 1 enabled (executing messages refused), 0 disabled; absent while unknown',
      labelNames: ['endpoint'] as const,
      registers: [registry],
      async collect() {
        if (!failsafeSource) return;
        const states = await failsafeSource();
        this.reset();
        for (const [endpoint, v] of Object.entries(states)) this.set({ endpoint }, v);
      },
    }),
    /** Where `failsafeEnabled` reads its figures at scrape time: the failsafe watch, which keeps each state in Redis. */
    readFailsafeFrom(source: () => Promise<Record<string, number>>): void {
      failsafeSource = source;
    },
    alertsOpen: new Gauge({
      name: 'xmsg_alerts_open',
      help: 'Unresolved alerts by severity and state (open, acknowledged, silenced)',
      labelNames: ['severity', 'state'] as const,
      registers: [registry],
    }),
    queueJobs: new Gauge({
      name: 'xmsg_queue_jobs',
      help: 'Jobs in each BullMQ queue by state (waiting, active, delayed, failed)',
      labelNames: ['queue', 'state'] as const,
      registers: [registry],
    }),
    jobLatency: new Histogram({
      name: 'xmsg_job_latency_seconds',
      help: 'From a job being due (queued, or its delay elapsed) to its completion, retries included, by queue',
      labelNames: ['queue'] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    jobFailures: new Counter({
      name: 'xmsg_job_failures_total',
      help: 'Job attempts that failed (and are retried unless attempts ran out), by queue',
      labelNames: ['queue'] as const,
      registers: [registry],
    }),
  };
}

/**
 * Records latency and failures of a worker's jobs (this replica's share of the queue), and logs its connection
 * errors: without a listener BullMQ prints them to stderr as stack traces (a Redis restart or failover).
 */
export function observeJobs(worker: Worker, metrics: Metrics, log: Logger): void {
  const queue = worker.name;
  worker.on('error', (err) => log.warn({ err: err.message, queue }, 'queue worker error'));
  worker.on('completed', (job) => {
    const dueAt = job.timestamp + (job.opts.delay ?? 0);
    if (job.finishedOn) metrics.jobLatency.observe({ queue }, Math.max(0, job.finishedOn - dueAt) / 1000);
  });
  worker.on('failed', () => metrics.jobFailures.inc({ queue }));
}

export type Metrics = ReturnType<typeof createMetrics>;

/** The supernodes' answers as the gauges take them (src/chain/supernode.ts SupernodeHeads). */
export interface SupernodeReading {
  up: ReadonlyMap<string, boolean>;
  heads: ReadonlyMap<number, { safe: bigint; finalized: bigint }>;
}
