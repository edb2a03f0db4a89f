import { readFile } from 'node:fs/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { keccak256, toHex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageChecksum } from '../src/chain/access-list.js';
import { emitInitiating, emitInitiatingMany, executeMessage, executeMessages, mine, setSafe } from '../src/devnet/devnet.js';
import { type FilterStandIn, startFilterStandIn } from '../src/devnet/filter-stand-in.js';
import { type SupernodeStandIn, startSupernodeStandIn } from '../src/devnet/supernode-stand-in.js';
import type { DomainEvent } from '../src/events/types.js';
import { EVENTS_QUEUE } from '../src/jobs/events-outbox.js';
import { SECOND_OPINION_QUEUE } from '../src/jobs/filter-cross-check.js';
import { keys } from '../src/store/keys.js';
import { useWorld } from './helpers/world.js';
import { metricValue, scrape, waitFor, waitForMessage } from './helpers/xmsg.js';

const A = 971;
const B = 972;
const TOKEN = 'xoxb-second-opinion';
const CHANNEL = 'C0SECOND';

const world = useWorld({
  name: 'second-opinion',
  chainIds: [A, B],
  slack: { token: TOKEN },
  scope: 'test',
  holdLabels: 'each',
  mineBeforeXmsg: true,
});
let supernode: SupernodeStandIn;
let filter: FilterStandIn;

beforeAll(async () => {
  supernode = await startSupernodeStandIn(world.devnet.chains.map((c) => ({ chainId: c.chainId, rpcUrl: c.rpcUrl })));
  filter = await startFilterStandIn([A, B]);
});
afterAll(async () => {
  await supernode?.close();
  await filter?.close();
});

const settings = (overrides: Record<string, string> = {}) => ({
  SLACK_BOT_TOKEN: TOKEN,
  SLACK_SIGNING_SECRET: 'second-opinion-secret',
  SLACK_CHANNEL_ID: CHANNEL,
  SLACK_API_URL: world.slack.apiUrl,
  XMSG_CHAT_MAX_PER_S: '50',
  XMSG_SUPERNODE_RPCS: supernode.url,
  ...overrides,
});
const start = (overrides: Record<string, string> = {}) => world.startXmsg(settings(overrides));

/** The text of the root posted for the first alert of a kind. */
async function rootText(kind: string, timeoutMs?: number): Promise<string> {
  return waitFor(
    `a ${kind} root in Slack`,
    () =>
      world.slack
        .channelMessages(CHANNEL)
        .map((m) => JSON.stringify(m.blocks ?? m.text))
        .find((t) => t.includes(kind === 'cross_safety_violation' ? 'CONSENSUS BUG' : 'op-interop-filter disagrees')),
    timeoutMs,
  );
}

/** An invalid message executed on B, its block then made cross-safe by the node's `safe` label. */
async function violation() {
  const init = await emitInitiating(world.devnet.chain(A));
  const forged = keccak256(toHex(`forged ${init.msgHash}`));
  const exec = await executeMessage(world.devnet.chain(B), init.identifier, forged);
  return { exec, forged };
}

describe('op-supernode as a second opinion on cross-safety violations', () => {
  it('states that the supernode agrees when its cross-safe head has passed the block too', async () => {
    const x = await start();
    const { exec, forged } = await violation();
    await waitForMessage(x.baseUrl, forged, { status: 'invalid' });
    supernode.setSafe(B, exec.blockNumber);
    await setSafe(world.devnet.chain(B), exec.blockNumber);

    const text = await rootText('cross_safety_violation');
    expect(text).toContain(`cross-safe head ${exec.blockNumber}, so block ${exec.blockNumber} is cross-safe`);
    expect(text).toContain('agree: the block is cross-safe');
    expect(text).not.toContain('DISAGREE');
    expect(supernode.server.calls).toContain('superroot_atTimestamp');
    await waitFor('the violation counted', async () => metricValue(await scrape(x.baseUrl), 'xmsg_cross_safety_violations_total{') === 1);
    await waitFor('the supernode gauges', async () => {
      const m = await scrape(x.baseUrl);
      return (
        metricValue(m, 'xmsg_supernode_up{') === 1 &&
        metricValue(m, `xmsg_supernode_safe_head{chain_id="${B}",level="cross_safe"}`) === Number(exec.blockNumber)
      );
    });
  });

  it('says loudly that they disagree when the supernode has not made the block cross-safe', async () => {
    const x = await start();
    const { exec, forged } = await violation();
    await waitForMessage(x.baseUrl, forged, { status: 'invalid' });
    supernode.setSafe(B, exec.blockNumber - 1n);
    await setSafe(world.devnet.chain(B), exec.blockNumber);

    const text = await rootText('cross_safety_violation');
    expect(text).toContain(`The node's \`safe\` label (head ${exec.blockNumber}) says block ${exec.blockNumber} is cross-safe`);
    expect(text).toContain(`cross-safe head ${exec.blockNumber - 1n}, so block ${exec.blockNumber} is NOT cross-safe`);
    expect(text).toContain('THEY DISAGREE');
  });

  it('still pages, saying so, when the supernode does not answer', async () => {
    const x = await start();
    supernode.server.down = true;
    try {
      const { exec, forged } = await violation();
      await waitForMessage(x.baseUrl, forged, { status: 'invalid' });
      await setSafe(world.devnet.chain(B), exec.blockNumber);
      const text = await rootText('cross_safety_violation');
      expect(text).toContain('could not be asked');
      expect(text).toContain('No supernode answered');
      await waitFor('the supernode down', async () => metricValue(await scrape(x.baseUrl), 'xmsg_supernode_up{') === 0);
    } finally {
      supernode.server.down = false;
    }
  });

  it('pages within seconds, saying so, when the supernode takes the call and never answers', async () => {
    // XMSG_RPC_TIMEOUT_MS at its default (10 s): the page must not wait on it.
    const x = await start();
    supernode.setHanging(true);
    try {
      const { exec, forged } = await violation();
      await waitForMessage(x.baseUrl, forged, { status: 'invalid' });
      await setSafe(world.devnet.chain(B), exec.blockNumber);
      const visible = Date.now();
      // Patient enough to measure a page that waits on the supernode, so a failure says by how much.
      const text = await rootText('cross_safety_violation', 45_000);
      const waited = Date.now() - visible;
      expect(waited, `the page waited ${waited} ms after the safe head was set`).toBeLessThan(5000);
      expect(supernode.server.calls).toContain('superroot_atTimestamp');
      expect(text).toContain('could not be asked: no answer within 2 s');
      expect(text).toContain('No supernode answered');
    } finally {
      supernode.setHanging(false);
    }
  });
});

describe('op-interop-filter as a second opinion on each executing message', () => {
  it('counts and alerts when the filter rejects a message xmsg finds valid', async () => {
    const x = await start({ XMSG_INTEROP_FILTER_RPC: filter.url });
    const agreed = await emitInitiating(world.devnet.chain(A));
    await executeMessage(world.devnet.chain(B), agreed.identifier, agreed.msgHash);
    await waitForMessage(x.baseUrl, agreed.msgHash, { status: 'valid' });
    await waitFor('the filter asked', () => filter.checks.length >= 1);

    const disputed = await emitInitiating(world.devnet.chain(A));
    filter.reject(messageChecksum(disputed.identifier, disputed.msgHash));
    await executeMessage(world.devnet.chain(B), disputed.identifier, disputed.msgHash);
    await waitForMessage(x.baseUrl, disputed.msgHash, { status: 'valid' });

    const text = await rootText('filter_divergence');
    expect(text).toContain('xmsg says valid');
    expect(text).toContain('says invalid');
    expect(text).toContain('-320600');
    const m = await scrape(x.baseUrl);
    expect(metricValue(m, 'xmsg_filter_divergence_total{xmsg_status="valid",filter_status="invalid"}')).toBe(1);
    // The message it agreed on raised nothing; each check named the executing chain and the message's own entries.
    expect(x.events.filter((e) => e.type === 'filter_divergence')).toHaveLength(1);
    expect(filter.checks.every((c) => c.chainId === BigInt(B) && c.minSafety === 'unsafe' && c.messages.length === 1)).toBe(true);
  });

  it('takes a filter in failsafe for no verdict, not a divergence', async () => {
    const x = await start({ XMSG_INTEROP_FILTER_RPC: filter.url });
    filter.failsafe = true;
    try {
      const before = filter.checks.length;
      const init = await emitInitiating(world.devnet.chain(A));
      await executeMessage(world.devnet.chain(B), init.identifier, init.msgHash);
      await waitForMessage(x.baseUrl, init.msgHash, { status: 'valid' });
      await new Promise((r) => setTimeout(r, 300));
      expect(filter.server.calls.length).toBeGreaterThan(0);
      expect(filter.checks.length).toBe(before);
      expect(metricValue(await scrape(x.baseUrl), 'xmsg_filter_divergence_total{')).toBe(0);
    } finally {
      filter.failsafe = false;
    }
  });

  it('asks about every message of a 300-message block, never more than 16 at once', async () => {
    const x = await start({ XMSG_INTEROP_FILTER_RPC: filter.url });
    const inits = await emitInitiatingMany(world.devnet.chain(A), 300);
    const disputed = inits[123]!;
    filter.reject(messageChecksum(disputed.identifier, disputed.msgHash));
    // Slow enough that calls made together overlap.
    filter.delayMs = 50;
    filter.peakInFlight = 0;
    try {
      await executeMessages(world.devnet.chain(B), inits);
      const asked = new Set(inits.map((i) => messageChecksum(i.identifier, i.msgHash).toLowerCase()));
      await waitFor(
        'the filter asked about each of them',
        () => asked.size === filter.checks.filter((c) => asked.has(c.messages[0]!.checksum.toLowerCase())).length,
        60_000,
      );
      await waitFor('the divergence of the disputed one', () => x.events.some((e) => e.type === 'filter_divergence'));
      expect(x.events.filter((e) => e.type === 'filter_divergence')).toHaveLength(1);
      expect(filter.peakInFlight, 'checks in flight at once').toBeLessThanOrEqual(16);
    } finally {
      filter.delayMs = 0;
    }
  });

  it('settles new messages at the usual pace while the filter takes 2 s a call', async () => {
    // One check at a time stands for every slot busy under a storm: a check waiting on the filter holds the next ones.
    const x = await start({ XMSG_INTEROP_FILTER_RPC: filter.url, XMSG_CHECKER_CONCURRENCY: '1' });
    filter.delayMs = 2000;
    try {
      const sentAt = Date.now();
      for (let i = 0; i < 4; i++) {
        const init = await emitInitiating(world.devnet.chain(A));
        await executeMessage(world.devnet.chain(B), init.identifier, init.msgHash);
        await waitForMessage(x.baseUrl, init.msgHash, { status: 'valid' }, 30_000);
      }
      const took = Date.now() - sentAt;
      expect(took, `4 messages, one block each, valid after ${took} ms`).toBeLessThan(4000);
    } finally {
      filter.delayMs = 0;
    }
  });
});

describe('op-interop-filter second opinions when the replica asking them stops', () => {
  const MESSAGES = 100;
  const FILTER_DELAY_MS = 500;

  /** Which of these message checksums (lower case) the filter has been asked about. */
  const askedAbout = (checksums: ReadonlySet<string>): Set<string> =>
    new Set(filter.checks.map((c) => c.messages[0]?.checksum.toLowerCase() ?? '').filter((checksum) => checksums.has(checksum)));

  /** Every filter_divergence event ever published under the test's prefix (their ids collapse in the outbox). */
  async function divergenceEvents(): Promise<Array<{ event: DomainEvent; state: string }>> {
    const queue = new Queue(EVENTS_QUEUE, { connection: { url: world.redisUrl }, prefix: world.prefix });
    try {
      const states = ['completed', 'failed', 'active', 'waiting', 'delayed', 'prioritized'] as const;
      const found = await Promise.all(
        states.map(async (state) => (await queue.getJobs([state])).map((job) => ({ event: job.data as DomainEvent, state }))),
      );
      return found.flat().filter(({ event }) => event.type === 'filter_divergence');
    } finally {
      await queue.close();
    }
  }

  async function waitForCursors(): Promise<void> {
    const redis = new Redis(world.redisUrl);
    try {
      const cursorKeys = [A, B].map((chainId) => keys(world.prefix).cursor(chainId));
      await waitFor('the replica following both chains', async () => (await redis.exists(...cursorKeys)) === cursorKeys.length);
    } finally {
      redis.disconnect();
    }
  }

  it('stops within a second mid-job on SIGTERM, and the next replica finishes the cross-checks, each divergence once', async () => {
    const filterSettings = settings({ XMSG_INTEROP_FILTER_RPC: filter.url });
    for (const chain of world.devnet.chains) await mine(chain);
    const first = world.replica('second-opinion-stopping', filterSettings);
    await first.start();
    await waitForCursors();

    const inits = await emitInitiatingMany(world.devnet.chain(A), MESSAGES);
    const checksums = inits.map((i) => messageChecksum(i.identifier, i.msgHash));
    const ours = new Set(checksums.map((c) => c.toLowerCase()));
    // One the first replica asks about before it stops (its divergence must not be doubled), one it never reaches
    // (its divergence must not be lost): the job's 16 lanes take the messages in order.
    const early = inits[0]!;
    const late = inits[MESSAGES - 1]!;
    filter.reject(checksums[0]!);
    filter.reject(checksums[MESSAGES - 1]!);
    filter.delayMs = FILTER_DELAY_MS;
    try {
      await executeMessages(world.devnet.chain(B), inits);
      await waitFor('the filter answering the first replica', () => askedAbout(ours).size > 0, 30_000);

      const stopping = Date.now();
      await first.stop();
      const stopMs = Date.now() - stopping;
      expect(await first.exitStatus()).toEqual({ code: 0, signal: null });
      // The grace period is 20 s; asking all 100 at 16 at a time takes ~3.5 s, the calls in flight ~0.5 s.
      expect(stopMs, `the replica took ${stopMs} ms to stop`).toBeLessThan(1500);
      const log = await readFile(first.logPath!, 'utf8');
      expect(log).toContain('op-interop-filter cross-check cut short; will retry');
      // Its calls still in flight are answered by now: all the first replica asked.
      await new Promise((r) => setTimeout(r, FILTER_DELAY_MS + 200));
      const askedByFirst = askedAbout(ours);
      expect(askedByFirst.size, 'messages the first replica asked about').toBeLessThan(MESSAGES);
      expect(askedByFirst.has(checksums[0]!.toLowerCase())).toBe(true);

      const second = await start({ XMSG_INTEROP_FILTER_RPC: filter.url });
      await waitFor(`the filter asked about all ${MESSAGES} messages`, () => askedAbout(ours).size === MESSAGES, 30_000);
      const hashOf = ({ event }: { event: DomainEvent }) => ('message' in event ? event.message.msgHash : undefined);
      await waitFor(
        'both divergences delivered',
        async () => {
          const events = await divergenceEvents();
          return events.length >= 2 && events.every(({ state }) => state === 'completed');
        },
        30_000,
      );
      const events = await divergenceEvents();
      expect(events.map(hashOf).sort()).toEqual([early.msgHash, late.msgHash].sort());
      // The one the first replica never reached was found by the second.
      expect(second.events.filter((e) => e.type === 'filter_divergence' && e.message.msgHash === late.msgHash)).toHaveLength(1);
      const queue = new Queue(SECOND_OPINION_QUEUE, { connection: { url: world.redisUrl }, prefix: world.prefix });
      try {
        await waitFor('the second-opinion job done', async () => {
          const counts = await queue.getJobCounts('active', 'waiting', 'delayed', 'failed', 'prioritized');
          return Object.values(counts).every((n) => n === 0);
        });
      } finally {
        await queue.close();
      }
    } finally {
      filter.delayMs = 0;
    }
  }, 120_000);
});
