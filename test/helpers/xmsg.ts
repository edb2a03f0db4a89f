import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { type App, startApp } from '../../src/app.js';
import { probeChainId } from '../../src/chain/rpc.js';
import { loadConfig } from '../../src/config.js';
import type { Devnet } from '../../src/devnet/devnet.js';
import { deleteKeysUnder } from '../../src/devnet/redis-keys.js';
import type { DomainEvent, EventHandler } from '../../src/events/types.js';

/** The tests' Redis: test/helpers/redis-global.ts points REDIS_URL at a private one when none answers here. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Settings that make xmsg react within a test's patience; any can be overridden per test. */
export function testEnv(devnet: Devnet, prefix: string, overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    REDIS_URL,
    XMSG_REDIS_PREFIX: prefix,
    XMSG_L2_RPCS: devnet.chains.map((c) => c.rpcUrl).join(','),
    XMSG_HTTP_PORT: '0',
    XMSG_POLL_INTERVAL_MS: '100',
    XMSG_START_BLOCKS_BACK: '0',
    XMSG_RPC_RETRIES: '2',
    XMSG_RPC_RETRY_DELAY_MS: '50',
    XMSG_RECHECK_BASE_MS: '200',
    XMSG_RECHECK_MAX_MS: '1000',
    XMSG_HEAD_STALL_S: '0',
    XMSG_LOG_LEVEL: process.env.XMSG_TEST_LOG_LEVEL ?? 'silent',
    ...overrides,
  };
}

export interface RunningXmsg {
  app: App;
  events: DomainEvent[];
  baseUrl: string;
  stop(): Promise<void>;
}

/** Starts one real xmsg replica in this process, recording the domain events it delivers. */
export async function startXmsg(devnet: Devnet, prefix: string, overrides: Record<string, string> = {}): Promise<RunningXmsg> {
  const config = await loadConfig(testEnv(devnet, prefix, overrides), (url) => probeChainId(url));
  const events: DomainEvent[] = [];
  const recorder: EventHandler = {
    async onEvent(event) {
      events.push(event);
    },
  };
  const app = await startApp(config, { handlers: [recorder], logger: pino({ level: config.logLevel }) });
  // Ready means every chain has a cursor: a message sent after this is never "before the start".
  await waitFor('every chain to have a cursor', async () => {
    const cursors = await Promise.all(config.chains.map((c) => app.redis.exists(app.store.keys.cursor(c.chainId))));
    return cursors.every((n) => n === 1);
  });
  const stop = async () => {
    const outcome = await app.stop();
    // Tests log nothing; this is the one line that says why a stop took the whole grace period.
    if (!outcome.clean) console.warn(`xmsg (prefix ${prefix}) stop cut short: still waiting on ${outcome.stuckAt}`);
  };
  return { app, events, baseUrl: `http://127.0.0.1:${app.port}`, stop };
}

export function uniquePrefix(name: string): string {
  return `xmsgtest-${name}-${randomUUID().slice(0, 8)}`;
}

/** Deletes every key of a test's prefix. */
export async function cleanRedis(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    await deleteKeysUnder(redis, prefix);
  } finally {
    redis.disconnect();
  }
}

/** Polls until `check` returns a value that is not undefined/false, or fails with what it last saw. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
}

export interface ApiMessage {
  id: string;
  status: string;
  reason: string;
  safety: string;
  executing: { chainId: number; blockNumber: string; blockHash: string; txHash: string; logIndex: number };
  history: Array<{ at: string; what: string }>;
}

/** GET /api/messages/:msgHash, as an operator would; undefined on 404. */
export async function messagesFor(baseUrl: string, msgHash: string): Promise<ApiMessage[] | undefined> {
  const res = await fetch(`${baseUrl}/api/messages/${msgHash}`);
  if (res.status === 404) return undefined;
  if (!res.ok) throw new Error(`GET /api/messages/${msgHash}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { messages: ApiMessage[] }).messages;
}

/** Waits until the message with this hash has the wanted status (and safety, if given). */
export function waitForMessage(baseUrl: string, msgHash: string, want: { status?: string; safety?: string }, timeoutMs?: number) {
  return waitFor(
    `message ${msgHash} to be ${JSON.stringify(want)}`,
    async () => {
      const found = await messagesFor(baseUrl, msgHash);
      const m = found?.find((x) => (!want.status || x.status === want.status) && (!want.safety || x.safety === want.safety));
      return m;
    },
    timeoutMs,
  );
}

export const eventsOfType = (events: DomainEvent[], type: DomainEvent['type']) => events.filter((e) => e.type === type);

/** Sum of the samples of a Prometheus text exposition whose line starts with `name` (a metric, or one with labels). */
export function metricValue(text: string, name: string): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(name))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

/** GET /metrics of a running replica, as Prometheus scrapes it. */
export async function scrape(baseUrl: string): Promise<string> {
  return (await fetch(`${baseUrl}/metrics`)).text();
}
