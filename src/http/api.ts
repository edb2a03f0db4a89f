import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { isHex } from 'viem';
import { type MessageAlerts, messageAlerts } from '../alerts/message-alerts.js';
import type { Alert } from '../alerts/model.js';
import type { AlertStore } from '../alerts/store.js';
import { queueDepths } from '../jobs/queue-depths.js';
import type { Metrics } from '../metrics.js';
import { readHeads } from '../store/heads.js';
import type { MessageRecord, MessageStore } from '../store/messages.js';
import { type HttpServer, sendJson } from './server.js';

export interface ApiDeps {
  store: MessageStore;
  alerts: AlertStore;
  redis: Redis;
  chainIds: number[];
  metrics: Metrics;
  /** Every queue of the replica by name, for the depth gauges. */
  queues: Record<string, Queue>;
  /** True once every worker and follower has started. */
  started: () => boolean;
  /** XMSG_API_TOKEN: when set, `/api/*` and `/metrics` answer only requests bearing it. */
  apiToken?: string;
}

/**
 * How long the cluster gauges read from Redis are reused: a scrape every second (or a caller who scrapes in a loop)
 * must not read every unresolved alert from the Redis the queues depend on each time.
 */
export const CLUSTER_GAUGES_MAX_AGE_MS = 2000;

/** Operator-facing routes: metrics, liveness, readiness, and the message and alert API. */
export function registerApi(http: HttpServer, deps: ApiDeps): void {
  const { store, redis, metrics } = deps;
  const authorized = bearerCheck(deps.apiToken);
  const clusterGauges = cachedRefresh(() => refreshClusterGauges(deps), CLUSTER_GAUGES_MAX_AGE_MS);

  http.route('GET', '/metrics', async (req, res) => {
    if (!authorized(req, res)) return;
    await clusterGauges();
    const text = await metrics.registry.metrics();
    res.writeHead(200, { 'content-type': metrics.registry.contentType });
    res.end(text);
  });

  http.route('GET', '/healthz', (_req, res) => sendJson(res, 200, { ok: true }));

  http.route('GET', '/readyz', async (_req, res) => {
    const redisOk = await redis.ping().then(
      (r) => r === 'PONG',
      () => false,
    );
    const ready = redisOk && deps.started();
    sendJson(res, ready ? 200 : 503, { ready, redis: redisOk, started: deps.started() });
  });

  http.route('GET', '/api/messages/:msgHash', async (req, res, params) => {
    if (!authorized(req, res)) return;
    const msgHash = params.msgHash ?? '';
    if (!isHex(msgHash, { strict: true }) || msgHash.length !== 66) {
      sendJson(res, 400, { error: 'msgHash must be a 0x-prefixed 32-byte hex string' });
      return;
    }
    const records = await store.byMsgHash(msgHash);
    if (!records.length) {
      sendJson(res, 404, { error: `no tracked executing message with msgHash ${msgHash}` });
      return;
    }
    const caused = await messageAlerts(
      deps.alerts,
      records.map((r) => r.data.id),
    );
    sendJson(res, 200, { msgHash: msgHash.toLowerCase(), messages: records.map((r) => messageView(r, caused.get(r.data.id)!)) });
  });

  http.route('GET', '/api/alerts', async (req, res) => {
    if (!authorized(req, res)) return;
    const state = new URL(req.url ?? '/', 'http://localhost').searchParams.get('state') ?? 'unresolved';
    if (!ALERT_FILTERS.includes(state as AlertFilter)) {
      sendJson(res, 400, { error: `state must be one of ${ALERT_FILTERS.join(', ')}` });
      return;
    }
    const alerts = await deps.alerts.list(state === 'all' || state === 'resolved' ? 'all' : 'unresolved', 500);
    sendJson(res, 200, { alerts: alerts.filter((a) => matchesFilter(a, state as AlertFilter)) });
  });

  http.route('GET', '/api/alerts/:id', async (req, res, params) => {
    if (!authorized(req, res)) return;
    const id = (params.id ?? '').toUpperCase();
    const alert = /^XM-\d+$/.test(id) ? await deps.alerts.get(id) : undefined;
    if (!alert) {
      sendJson(res, 404, { error: `no alert ${params.id}` });
      return;
    }
    const audit = (await deps.alerts.audit(id)).map((e) => ({ ...e, at: new Date(e.at).toISOString() }));
    sendJson(res, 200, { alert, audit });
  });
}

/**
 * The `/api/*` and `/metrics` guard: with a token, a request must carry `Authorization: Bearer <token>` (compared in
 * constant time, as digests so that the length leaks nothing either); without one, everything is open (a private
 * network). `/healthz` and `/readyz` stay open for orchestrators' probes: they tell nothing about alerts.
 */
function bearerCheck(token: string | undefined): (req: IncomingMessage, res: ServerResponse) => boolean {
  if (token === undefined) return () => true;
  const expected = digest(token);
  return (req, res) => {
    const given = /^Bearer +(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (given !== undefined && timingSafeEqual(digest(given), expected)) return true;
    res.setHeader('www-authenticate', 'Bearer realm="xmsg"');
    sendJson(res, 401, { error: 'this endpoint needs Authorization: Bearer <XMSG_API_TOKEN>' });
    return false;
  };
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** `refresh` at most once per `maxAgeMs`; callers meanwhile share the running refresh or reuse the last one. */
function cachedRefresh(refresh: () => Promise<void>, maxAgeMs: number): () => Promise<void> {
  let last: { at: number; done: Promise<void> } | undefined;
  return () => {
    if (!last || Date.now() - last.at >= maxAgeMs) {
      const done = refresh();
      last = { at: Date.now(), done };
      // A failed refresh is not reused: the next scrape tries again.
      done.catch(() => {
        if (last?.done === done) last = undefined;
      });
    }
    return last.done;
  };
}

const ALERT_FILTERS = ['unresolved', 'open', 'acked', 'silenced', 'resolved', 'all'] as const;
type AlertFilter = (typeof ALERT_FILTERS)[number];

function matchesFilter(a: Alert, f: AlertFilter): boolean {
  switch (f) {
    case 'open':
      return a.state === 'open';
    case 'acked':
      return a.state === 'acknowledged';
    case 'silenced':
      return a.silenceId !== '' && a.state !== 'resolved';
    case 'resolved':
      return a.state === 'resolved';
    default:
      return true;
  }
}

/** A tracked message as the API shows it, with the alerts raised for it (`{id, kind}`) and the events it caused. */
export function messageView(r: MessageRecord, caused: MessageAlerts) {
  const d = r.data;
  return {
    id: d.id,
    status: r.status,
    reason: r.reason,
    safety: r.safety,
    executing: {
      chainId: d.chainId,
      blockNumber: d.blockNumber,
      blockHash: d.blockHash,
      timestamp: d.blockTimestamp,
      txHash: d.txHash,
      logIndex: d.logIndex,
    },
    msgHash: d.msgHash,
    identifier: d.identifier,
    seenAt: new Date(d.seenAt).toISOString(),
    history: r.history.map((h) => ({ at: new Date(h.at).toISOString(), what: h.what })),
    alerts: caused.alerts,
    events: caused.events,
  };
}

/** Gauges describe the whole cluster, so every replica reads them from Redis when scraped (at most every few seconds). */
async function refreshClusterGauges({ store, alerts, redis, chainIds, metrics, queues }: ApiDeps): Promise<void> {
  metrics.alertsOpen.reset();
  for (const a of await alerts.list('unresolved', 10_000)) {
    metrics.alertsOpen.inc({ severity: a.severity, state: a.silenceId ? 'silenced' : a.state });
  }
  metrics.queueJobs.reset();
  for (const [name, counts] of Object.entries(await queueDepths(queues))) {
    for (const [state, n] of Object.entries(counts)) metrics.queueJobs.set({ queue: name, state }, n);
  }
  metrics.messageStatus.reset();
  for (const c of await store.statusCounts()) {
    if (c.count > 0) {
      metrics.messageStatus.set({ executing_chain_id: c.executing, initiating_chain_id: c.initiating, status: c.status }, c.count);
    }
  }
  for (const chainId of chainIds) {
    const heads = await readHeads(redis, store.keys, chainId);
    for (const label of ['latest', 'safe', 'finalized', 'cursor'] as const) {
      const value = heads[label];
      if (value !== undefined) metrics.chainHead.set({ chain_id: String(chainId), label }, Number(value));
    }
  }
  await refreshBlockRanges({ store, redis, chainIds, metrics });
}

/**
 * op-interop-mon's executing_block_range and initiating_block_range as one gauge: the lowest and highest executing
 * block of the messages tracked on each chain (its pending and safe indexes), and the lowest and highest initiating
 * block they point at on it (its bysource index); the indexes' scores are those block numbers.
 */
async function refreshBlockRanges({ store, redis, chainIds, metrics }: Pick<ApiDeps, 'store' | 'redis' | 'chainIds' | 'metrics'>) {
  const ends = (key: string) => Promise.all([redis.zrange(key, '0', '0', 'WITHSCORES'), redis.zrange(key, '-1', '-1', 'WITHSCORES')]);
  metrics.blockRange.reset();
  for (const chainId of chainIds) {
    const sides = {
      executing: [store.keys.pending(chainId), store.keys.safe(chainId)],
      initiating: [store.keys.bySource(chainId)],
    };
    for (const [side, keys] of Object.entries(sides)) {
      const scores = (await Promise.all(keys.map(ends))).flat().flatMap((reply) => (reply[1] === undefined ? [] : [Number(reply[1])]));
      if (!scores.length) continue;
      metrics.blockRange.set({ chain_id: String(chainId), side, range_type: 'min' }, Math.min(...scores));
      metrics.blockRange.set({ chain_id: String(chainId), side, range_type: 'max' }, Math.max(...scores));
    }
  }
}
