/**
 * Shared pieces of the chaos tests: the scale switch, the world they start from, message traffic on the devnet,
 * and the end-state checks every chaos test makes (every message tracked with the right status, every invalid one
 * in exactly one alert, one Slack root per alert).
 */
import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import { type Hex, keccak256, toHex } from 'viem';
import { type DevChain, emitInitiatingMany, executeMessages } from '../../src/devnet/devnet.js';
import { readBody } from '../fakes/body.js';
import type { FakeMessage, FakeSlack } from '../fakes/slack.js';
import { useWorld, type World, type WorldOptions } from '../helpers/world.js';
import { waitFor } from '../helpers/xmsg.js';

/** `XMSG_CHAOS_SCALE=full` (what `npm run chaos` sets) picks the long form; `npm test` runs the short one. */
export const FULL = process.env.XMSG_CHAOS_SCALE === 'full';
export const scale = <T>(short: T, full: T): T => (FULL ? full : short);
/** Seeds are fixed so a failure can be replayed; XMSG_CHAOS_SEED overrides them all. */
export const seedFor = (fallback: number): number => Number(process.env.XMSG_CHAOS_SEED ?? fallback);

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * What every chaos test starts from: the chains, with their safe and finalized labels held at 0 (nothing settles
 * unless a test says so) and a fresh head block, the loopback Slack with the on-call group, and one Redis prefix
 * for the file.
 */
export function useChaosWorld(name: string, chainIds: readonly number[], more: Partial<WorldOptions> = {}): World {
  return useWorld({
    name,
    chainIds: [...chainIds],
    slack: { token: SLACK.token, usergroups: { [SLACK.oncallGroup]: [SLACK.oncallUser] } },
    holdLabels: 'once',
    mineOnStart: true,
    ...more,
  });
}

// ---------------------------------------------------------------------------------------------------------
// Traffic.

export interface SentMessage {
  msgHash: Hex;
  invalid: boolean;
  /** The executing chain. */
  chainId: number;
}

/**
 * `count` messages in two transactions: `count` initiating logs on `from`, then one transaction on `to` executing
 * each of them; the ones whose position is in `invalid` carry a forged msgHash.
 */
export async function sendBatch(
  from: DevChain,
  to: DevChain,
  count: number,
  invalid: ReadonlySet<number> = new Set(),
): Promise<SentMessage[]> {
  const inits = await emitInitiatingMany(from, count);
  const items = inits.map((init, i) => ({
    identifier: init.identifier,
    msgHash: invalid.has(i) ? keccak256(toHex(`forged ${init.msgHash}`)) : init.msgHash,
  }));
  await executeMessages(to, items);
  return items.map((item, i) => ({ msgHash: item.msgHash, invalid: invalid.has(i), chainId: to.chainId }));
}

/**
 * A stream of `total` messages in batches of `batchSize`, alternating direction between two chains, paced to last
 * about `durationMs`; the `invalid` positions (of the whole stream) are forged. `onBatch` runs after each batch.
 */
export async function stream(
  chains: readonly [DevChain, DevChain],
  o: {
    total: number;
    batchSize: number;
    invalid: ReadonlySet<number>;
    durationMs: number;
    onBatch?: (sent: SentMessage[]) => void | Promise<void>;
  },
): Promise<SentMessage[]> {
  const sent: SentMessage[] = [];
  const batches = Math.ceil(o.total / o.batchSize);
  const started = Date.now();
  for (let b = 0; b < batches; b++) {
    const first = b * o.batchSize;
    const count = Math.min(o.batchSize, o.total - first);
    const invalid = new Set([...o.invalid].filter((i) => i >= first && i < first + count).map((i) => i - first));
    const [from, to] = b % 2 === 0 ? chains : [chains[1], chains[0]];
    const batch = await sendBatch(from, to, count, invalid);
    sent.push(...batch);
    await o.onBatch?.(batch);
    const due = started + ((b + 1) * o.durationMs) / batches;
    if (due > Date.now()) await sleep(due - Date.now());
  }
  return sent;
}

// ---------------------------------------------------------------------------------------------------------
// The end state, through the HTTP API (as an operator sees it), Redis (which messages each alert covers) and the
// loopback Slack (what on-call saw).

interface ApiAlert {
  id: string;
  kind: string;
  state: string;
  count: number;
  chainId: number;
  resolvedBy: string;
}

export async function apiAlerts(baseUrl: string): Promise<ApiAlert[]> {
  const res = await fetch(`${baseUrl}/api/alerts?state=all`);
  if (!res.ok) throw new Error(`GET /api/alerts: ${res.status}`);
  return ((await res.json()) as { alerts: ApiAlert[] }).alerts;
}

interface ApiMessage {
  id: string;
  status: string;
  history: Array<{ what: string }>;
}

/**
 * How many times a message got a settled status: once for a message checked once. (`unknown` and `future` on the
 * way are fine: a source lookup that fails through a flaky node is retried.)
 */
const statusChanges = (m: ApiMessage) =>
  m.history.filter((h) => /^status (valid|invalid|expired|timestamp_mismatch)\b/.test(h.what)).length;

async function apiMessages(baseUrl: string, msgHash: string): Promise<ApiMessage[]> {
  const res = await fetch(`${baseUrl}/api/messages/${msgHash}`);
  if (res.status === 404) return [];
  if (!res.ok) throw new Error(`GET /api/messages/${msgHash}: ${res.status}`);
  return ((await res.json()) as { messages: ApiMessage[] }).messages;
}

async function inParallel<T, R>(items: readonly T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

export interface Coverage {
  /** Messages not tracked, or tracked with the wrong status, or more than once. */
  wrong: string[];
  /** Invalid messages in no alert. */
  unalerted: string[];
  /** Invalid messages counted in more than one alert. */
  doubled: string[];
  /** Sum of the invalid_message alerts' counts. */
  alertedCount: number;
  invalidAlerts: ApiAlert[];
  /** message id of each sent message (undefined when not tracked). */
  ids: Map<Hex, string | undefined>;
}

/**
 * Where every sent message stands: tracked once with the right settled status, and each invalid one in exactly
 * one `invalid_message` alert (by the alert's message set, which also holds the ones grouping folded in).
 */
export async function coverage(baseUrl: string, redisUrl: string, prefix: string, sent: readonly SentMessage[]): Promise<Coverage> {
  const wrong: string[] = [];
  const ids = new Map<Hex, string | undefined>();
  await inParallel(sent, 16, async (m) => {
    const found = await apiMessages(baseUrl, m.msgHash);
    const want = m.invalid ? 'invalid' : 'valid';
    if (found.length !== 1 || found[0]!.status !== want) {
      wrong.push(`${m.msgHash}: ${found.length ? found.map((f) => f.status).join(',') : 'not tracked'} (want ${want})`);
    } else if (statusChanges(found[0]!) !== 1) {
      wrong.push(`${m.msgHash}: settled ${statusChanges(found[0]!)} times: ${found[0]!.history.map((h) => h.what).join('; ')}`);
    }
    ids.set(m.msgHash, found[0]?.id);
  });
  const alerts = await apiAlerts(baseUrl);
  const invalidAlerts = alerts.filter((a) => a.kind === 'invalid_message');
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 3 });
  const owner = new Map<string, string[]>();
  try {
    await redis.connect();
    for (const a of invalidAlerts) {
      for (const messageId of await redis.smembers(`${prefix}:alert:${a.id}:msgs`))
        owner.set(messageId, [...(owner.get(messageId) ?? []), a.id]);
    }
  } finally {
    redis.disconnect();
  }
  const unalerted: string[] = [];
  const doubled: string[] = [];
  for (const m of sent.filter((s) => s.invalid)) {
    const id = ids.get(m.msgHash);
    const holders = id ? (owner.get(id) ?? []) : [];
    if (holders.length === 0) unalerted.push(m.msgHash);
    if (holders.length > 1) doubled.push(`${m.msgHash} in ${holders.join(', ')}`);
  }
  return { wrong, unalerted, doubled, alertedCount: invalidAlerts.reduce((n, a) => n + a.count, 0), invalidAlerts, ids };
}

/** Waits until every sent message is settled as expected and every invalid one is alerted; returns the coverage. */
export async function waitForCoverage(
  baseUrl: () => string,
  redisUrl: string,
  prefix: string,
  sent: readonly SentMessage[],
  timeoutMs: number,
): Promise<Coverage> {
  let last: Coverage | undefined;
  const want = sent.filter((m) => m.invalid).length;
  try {
    return await waitFor(
      'every message tracked and every invalid one alerted',
      async () => {
        last = await coverage(baseUrl(), redisUrl, prefix, sent);
        return last.wrong.length === 0 && last.unalerted.length === 0 && last.alertedCount >= want ? last : undefined;
      },
      timeoutMs,
    );
  } catch (err) {
    if (!last) throw err;
    return last; // the caller's assertions say what is missing
  }
}

/** The alert id of a Slack root: its title starts with it (`XM-7 CRITICAL: ...`); its buttons carry it too. */
export function alertIdOfRoot(m: FakeMessage): string | undefined {
  const fromText = /(?:^|\s)(XM-\d+) (?:CRITICAL|WARNING):/.exec(m.text)?.[1];
  if (fromText) return fromText;
  for (const block of m.blocks ?? []) {
    const elements = (block as { elements?: Array<{ value?: unknown }> }).elements ?? [];
    const value = elements.find((e) => typeof e.value === 'string' && /^XM-\d+$/.test(e.value))?.value;
    if (typeof value === 'string') return value;
  }
  return undefined;
}

/** Root messages per alert id in a channel. */
export function rootsByAlert(slack: FakeSlack, channel: string): Map<string, FakeMessage[]> {
  const out = new Map<string, FakeMessage[]>();
  for (const m of slack.channelMessages(channel)) {
    const id = alertIdOfRoot(m) ?? `(no alert id: ${m.text.slice(0, 60)})`;
    out.set(id, [...(out.get(id) ?? []), m]);
  }
  return out;
}

/** Waits until every alert has a root in Slack; returns the roots per alert (more than one is a failure). */
export async function waitForRoots(
  slack: FakeSlack,
  channel: string,
  alertIds: readonly string[],
  timeoutMs: number,
): Promise<Map<string, FakeMessage[]>> {
  try {
    return await waitFor(
      'a Slack root for every alert',
      () => {
        const roots = rootsByAlert(slack, channel);
        return alertIds.every((id) => roots.has(id)) ? roots : undefined;
      },
      timeoutMs,
    );
  } catch {
    return rootsByAlert(slack, channel);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Slack settings shared by the chaos tests.

export const SLACK = {
  token: 'xoxb-chaos-token',
  secret: 'chaos-signing-secret',
  channel: 'C0CHAOS',
  oncallGroup: 'S0ONCALL',
  oncallUser: 'U0ONCALL',
  admin: 'U0ADMIN',
} as const;

/** The environment that turns Slack on against the loopback fake; alerts are never escalated during a test. */
export function slackEnv(slack: FakeSlack): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: SLACK.token,
    SLACK_SIGNING_SECRET: SLACK.secret,
    SLACK_CHANNEL_ID: SLACK.channel,
    SLACK_ONCALL_GROUP_ID: SLACK.oncallGroup,
    SLACK_ADMIN_USER_IDS: SLACK.admin,
    SLACK_API_URL: slack.apiUrl,
    XMSG_CHAT_MAX_PER_S: '50',
    XMSG_ESCALATE_AFTER_S: '86400',
  };
}

/** Waits until the world's chains are followed: each has a cursor under its prefix. */
export function waitForFollowing(world: World): Promise<true> {
  const chainIds = world.devnet.chains.map((c) => c.chainId);
  return waitFor('every chain followed', () => cursorsExist(world.redisUrl, world.prefix, chainIds));
}

/** True once every chain has a cursor in Redis (a replica follows it). */
async function cursorsExist(redisUrl: string, prefix: string, chainIds: readonly number[]): Promise<boolean> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    const found = await Promise.all(chainIds.map((c) => redis.exists(`${prefix}:cursor:${c}`)));
    return found.every((n) => n === 1);
  } finally {
    redis.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------------------
// A proxy in front of the loopback Slack that can hold one call: either its answer (the call has reached Slack and
// changed it; the caller has not heard back) or the call itself (it never reaches Slack if the caller dies first).
// Killing the caller then is the worst moment for an outbox.

export interface HoldingProxy {
  /** What SLACK_API_URL points at (`{url}/api/`). */
  apiUrl: string;
  /** Holds the next call of `method` (its answer, or the whole call) until release(); resolves once it is held. */
  holdNext(method: string, what: 'answer' | 'call'): Promise<void>;
  /**
   * Lets held calls go on; a held call whose caller has gone is dropped. Waits a moment first, so that the closing of
   * a killed caller's connection has been seen.
   */
  release(): Promise<void>;
  stop(): Promise<void>;
}

export async function startHoldingProxy(targetUrl: string): Promise<HoldingProxy> {
  let holding: { method: string; what: 'answer' | 'call'; reached: () => void } | undefined;
  const held: Array<() => void> = [];
  const hold = (reached: () => void) =>
    new Promise<void>((r) => {
      held.push(r);
      reached();
    });
  const server = createServer((req, res) => {
    let callerGone = false;
    res.on('close', () => (callerGone = true));
    void (async () => {
      try {
        const body = await readBody(req);
        const method = decodeURIComponent((req.url ?? '').replace(/^\/api\//, '').split('?')[0] ?? '');
        const mine = holding && holding.method === method ? holding : undefined;
        if (mine) holding = undefined;
        if (mine?.what === 'call') {
          await hold(mine.reached);
          if (callerGone) return;
        }
        const headers = Object.fromEntries(
          Object.entries(req.headers).filter(([k, v]) => typeof v === 'string' && !['host', 'content-length', 'connection'].includes(k)),
        ) as Record<string, string>;
        const upstream = await fetch(`${targetUrl}${req.url}`, {
          method: req.method,
          headers,
          body: req.method === 'GET' ? undefined : body,
        });
        const text = await upstream.text();
        if (mine?.what === 'answer') await hold(mine.reached);
        if (callerGone) return;
        const passed = [...upstream.headers].filter(
          ([k]) => !['content-length', 'transfer-encoding', 'connection', 'content-encoding'].includes(k),
        );
        res.writeHead(upstream.status, Object.fromEntries(passed));
        res.end(text);
      } catch (err) {
        if (!callerGone) res.writeHead(502).end(String(err));
      }
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    apiUrl: `http://127.0.0.1:${port}/api/`,
    holdNext: (method, what) => new Promise<void>((reached) => (holding = { method, what, reached })),
    async release() {
      await new Promise((r) => setTimeout(r, 200));
      for (const r of held.splice(0)) r();
    },
    async stop() {
      for (const r of held.splice(0)) r();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
