/**
 * What every bench section shares: the devnet, the xmsg replicas it started (each under a Redis prefix of its own)
 * and the cleanup that removes all of it, also after a failure or a timeout.
 */
import { type DevChain, type Devnet, holdLabelsAtGenesis, mine, setFinalized, setSafe } from '../src/devnet/devnet.js';
import { cleanRedis, type RunningXmsg, startXmsg, uniquePrefix } from '../test/helpers/xmsg.js';

/** Head polling interval of every replica the bench starts (XMSG_POLL_INTERVAL_MS); the latency target depends on it. */
export const POLL_INTERVAL_MS = 200;

/** Settings of every replica the bench starts, on top of the test helpers' (quiet logs, quick RPC retries, no stall check). */
const BENCH_ENV: Record<string, string> = {
  XMSG_POLL_INTERVAL_MS: String(POLL_INTERVAL_MS),
  XMSG_LOG_LEVEL: process.env.XMSG_BENCH_LOG_LEVEL ?? 'silent',
};

export class BenchContext {
  private readonly prefixes: string[] = [];
  private readonly running = new Set<RunningXmsg>();
  private readonly started = new Set<string>();

  constructor(readonly devnet: Devnet) {}

  /** A fresh Redis prefix for one section; deleted by cleanup(). */
  newPrefix(section: string): string {
    const prefix = uniquePrefix(`bench-${section}`);
    this.prefixes.push(prefix);
    return prefix;
  }

  /**
   * Starts one replica (in this process) and waits until every chain has a cursor. The first replica of a prefix
   * starts at the head block, so an empty block is mined first: an earlier section's last messages stay out.
   */
  async startXmsg(prefix: string, overrides: Record<string, string> = {}): Promise<RunningXmsg> {
    if (!this.started.has(prefix)) {
      this.started.add(prefix);
      for (const c of this.devnet.chains) await mine(c);
    }
    const x = await startXmsg(this.devnet, prefix, { ...BENCH_ENV, ...overrides });
    this.running.add(x);
    return x;
  }

  async stopXmsg(x: RunningXmsg): Promise<void> {
    this.running.delete(x);
    await x.stop();
  }

  /** Holds `safe` and `finalized` at 0 on every chain: nothing is promoted or dropped while a section measures. */
  async holdLabels(): Promise<void> {
    await holdLabelsAtGenesis(this.devnet);
  }

  /** Hands `safe` and `finalized` back to anvil, whose labels trail its head. */
  async releaseLabels(): Promise<void> {
    for (const c of this.devnet.chains) {
      await setSafe(c, null);
      await setFinalized(c, null);
    }
  }

  chain(i: number): DevChain {
    const c = this.devnet.chains[i];
    if (!c) throw new Error(`bench: no devnet chain #${i}`);
    return c;
  }

  /** Stops the replicas, then the chains, then deletes every key of the bench's prefixes. Safe to call twice. */
  async cleanup(): Promise<void> {
    const replicas = [...this.running];
    this.running.clear();
    await Promise.allSettled(replicas.map((x) => withTimeout(x.stop(), 10_000)));
    await withTimeout(this.devnet.stop(), 10_000).catch(() => undefined);
    const prefixes = this.prefixes.splice(0);
    await Promise.allSettled(prefixes.map((p) => withTimeout(cleanRedis(p), 10_000)));
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
