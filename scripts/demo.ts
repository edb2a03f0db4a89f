/**
 * `npm run demo`: a 3-chain anvil devnet, one xmsg replica in this process, and traffic with trouble now and
 * then, printed as a timeline for a person at a terminal. Runs until Ctrl-C, or for XMSG_DEMO_SECONDS seconds
 * (then exits 1 if it demonstrated nothing; that makes it a smoke test).
 *
 * xmsg is configured from the environment like `npm start`, with demo defaults (promotion deadline 20 s, log
 * level warn) that the environment may override; the RPCs, the Redis prefix and (unless set) the port are the
 * demo's own, and so are op-supernode, op-interop-filter and the filter's failsafe admin port (loopback stand-ins,
 * scripts/demo/stand-ins.ts); chat is off unless XMSG_DEMO_CHAT=1. With nothing answering at REDIS_URL it starts a private
 * redis-server (when one is installed). However it ends (Ctrl-C, SIGTERM, a failed start, the timed run's end),
 * every Redis key of the run is deleted and everything it started is stopped.
 */
import { type App, startApp } from '../src/app.js';
import { probeChainId } from '../src/chain/rpc.js';
import { type Config, ConfigError, loadConfig } from '../src/config.js';
import { type Devnet, emitInitiating, setNextBlockTimestamp, startDevnet } from '../src/devnet/devnet.js';
import { firstLine } from '../src/errors.js';
import { AlertLines } from './demo/alerts.js';
import { BLOCK_TIME_S } from './demo/chain-ops.js';
import { EventWatch } from './demo/events.js';
import { SafetyLabels } from './demo/labels.js';
import { type DemoLogger, demoLogger } from './demo/log-sink.js';
import { bold, Printer, paint } from './demo/print.js';
import { choosePort, type DemoRedis, DemoSetupError, deleteKeys, demoPrefix, demoRedis } from './demo/setup.js';
import { type DemoStandIns, startStandIns } from './demo/stand-ins.js';
import { printFinalSummary, printSummaryLine, type SummarySources } from './demo/summary.js';
import { Traffic } from './demo/traffic.js';

const CHAIN_IDS = [901, 902, 903];
// The third chain starts 8 days back, so that it holds an initiating log older than the 7-day expiry window.
const STALE_CHAIN_ID = 903;
const STALE_AGE_S = 8n * 86_400n;
const SUMMARY_EVERY_MS = 10_000;
// If a graceful stop hangs (it should take a few seconds), leave anyway rather than ignore the person's Ctrl-C.
const STOP_TIMEOUT_MS = 30_000;

const DEMO_DEFAULTS = {
  // The local web console is the demo's chat: alerts as threads, buttons and /xmsg commands, no account needed.
  XMSG_CONSOLE: '1',
  // Short enough to see "unpromoted" within the demo's first half minute.
  XMSG_PROMOTION_DEADLINE_S: '20',
  // xmsg's own info lines would drown the timeline; its warnings still show, compacted.
  XMSG_LOG_LEVEL: 'warn',
  // A local node answers in milliseconds; quick retries keep a node outage scenario (and the stop) quick.
  XMSG_RPC_RETRY_DELAY_MS: '200',
  // The console's failsafe line follows a switch within a second.
  XMSG_FAILSAFE_POLL_MS: '1000',
};

const printer = new Printer();
const prefix = demoPrefix();

// Everything started so far, so that a stop at any moment (even mid-start) undoes exactly that.
let starting: Promise<void> | undefined;
let redis: DemoRedis | undefined;
/** Set just before xmsg starts: from then on the run has keys under its prefix to delete. */
let keysWritten = false;
let devnet: Devnet | undefined;
let standIns: DemoStandIns | undefined;
let labels: SafetyLabels | undefined;
let app: App | undefined;
let log: DemoLogger | undefined;
let traffic: Traffic | undefined;
let events: EventWatch | undefined;
let alertLines: AlertLines | undefined;
let summaryTimer: NodeJS.Timeout | undefined;
let stopping = false;
let stopAskedAt = 0;
let cleaning: Promise<void> | undefined;

function demoSeconds(): number | undefined {
  const raw = process.env.XMSG_DEMO_SECONDS;
  if (raw === undefined || raw.trim() === '') return undefined;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    console.error(`demo: XMSG_DEMO_SECONDS must be a positive number of seconds (got ${JSON.stringify(raw)})`);
    process.exit(2);
  }
  return seconds;
}

async function start(): Promise<void> {
  redis = await demoRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', (line) => printer.note(line));
  if (stopping) return;
  printer.note(`starting anvil devnet: chains ${CHAIN_IDS.join(', ')}, a block every ${BLOCK_TIME_S} s`);
  const now = () => BigInt(Math.floor(Date.now() / 1000));
  devnet = await startDevnet({
    chainIds: CHAIN_IDS,
    blockTime: BLOCK_TIME_S,
    genesisTimestamps: { [STALE_CHAIN_ID]: now() - STALE_AGE_S },
  });
  const staleChain = devnet.chain(STALE_CHAIN_ID);
  const stale = { chain: staleChain, log: await emitInitiating(staleChain) };
  // Then the stale chain joins the present: its next block, and every one after, carries the wall clock.
  await setNextBlockTimestamp(staleChain, now());
  printer.note(`chain ${STALE_CHAIN_ID} began 8 days ago: its block ${stale.log.identifier.blockNumber} holds a log old enough to expire`);
  standIns = await startStandIns(devnet);
  if (stopping) return;
  labels = new SafetyLabels(devnet, standIns);
  await labels.start();

  const env: NodeJS.ProcessEnv = {
    ...DEMO_DEFAULTS,
    ...withoutChat(process.env),
    // The demo is local and needs no sign-in: its console and API stay open to this machine whatever the shell exports.
    XMSG_API_TOKEN: undefined,
    XMSG_CONSOLE_TOKEN: undefined,
    XMSG_HTTP_PORT: process.env.XMSG_HTTP_PORT ?? String(await choosePort()),
    REDIS_URL: redis.url,
    XMSG_REDIS_PREFIX: prefix,
    XMSG_L2_RPCS: devnet.chains.map((c) => c.rpcUrl).join(','),
    // The demo's own stand-ins, never a production filter's admin port the shell may point at.
    ...standIns.env,
    XMSG_FAILSAFE_JWT_SECRET: undefined,
  };
  const config = await loadConfig(env, (url) => probeChainId(url));
  log = demoLogger(config, printer);
  // The traffic registry is what names a message's events; events may only arrive once traffic exists.
  events = new EventWatch(printer, (msgHash) => traffic?.labelOf(msgHash));
  if (stopping) return;
  keysWritten = true;
  app = await startApp(config, { handlers: [events], logger: log.logger });
  if (stopping) return;

  const base = `http://127.0.0.1:${app.port}`;
  printer.raw();
  printer.raw(bold('xmsg demo'));
  printer.raw(`  chains     ${devnet.chains.map((c) => `${c.chainId} ${c.rpcUrl}`).join('   ')}  (xmsg's view, through the label proxy)`);
  if (config.console)
    printer.raw(`  console    ${bold(`http://localhost:${app.port}/`)}  (alerts, threads, buttons and /xmsg commands, live)`);
  if (config.console)
    printer.raw(
      paint(
        'grey',
        '             (on a cross_safety_violation: Enable failsafe under one name, then /xmsg failsafe on <reason> under another)',
      ),
    );
  printer.raw(
    `  stand-ins  op-supernode ${standIns.supernode.url}  op-interop-filter ${standIns.filter.url}  failsafe admin ${standIns.failsafeAdmin.url}`,
  );
  printer.raw(`  metrics    ${base}/metrics`);
  printer.raw(`  messages   ${base}/api/messages/<msgHash>`);
  printer.raw(`  alerts     ${base}/api/alerts?state=all`);
  printer.raw(`  health     ${base}/healthz  ${base}/readyz`);
  printer.raw(`  redis      ${redis.url}  keys ${prefix}:*  (deleted on exit)`);
  printer.raw(`  safe = latest - 2, finalized = latest - 5; promotion deadline ${config.promotionDeadlineS} s`);
  printer.raw(
    paint('grey', '             (xmsg forgets a message once both its blocks are final, seconds here; replaced ones stay an hour)'),
  );
  printer.raw(`  Slack/Discord ${chatText(config)}`);
  printer.raw(paint('grey', '  Ctrl-C to stop'));
  printer.raw();

  traffic = new Traffic({
    devnet,
    labels,
    events,
    printer,
    promotionDeadlineS: config.promotionDeadlineS,
    apiBase: base,
    stale,
    rejectAtFilter: standIns.rejectAtFilter,
  });
  traffic.start();
  alertLines = new AlertLines(base, printer);
  alertLines.start();
  const sources = summarySources();
  summaryTimer = setInterval(() => {
    if (sources) printSummaryLine(printer, sources).catch(() => undefined);
  }, SUMMARY_EVERY_MS);
}

/**
 * The demo forges invalid messages and a cross-safety violation; with a shell that has production Slack/Discord
 * settings loaded, those would page the real on-call. Chat stays off unless XMSG_DEMO_CHAT=1 asks for it.
 */
function withoutChat(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (env.XMSG_DEMO_CHAT === '1') return env;
  return Object.fromEntries(Object.entries(env).filter(([name]) => !/^(SLACK|DISCORD)_/.test(name)));
}

function chatText(config: Config): string {
  const on = [config.slack && `Slack ${config.slack.channel}`, config.discord && `Discord ${config.discord.channel}`].filter(Boolean);
  return on.length ? `alerts go to ${on.join(' and ')}` : 'off (XMSG_DEMO_CHAT=1 keeps the SLACK_*/DISCORD_* settings of the environment)';
}

function summarySources(): SummarySources | undefined {
  return traffic && events && labels && app ? { traffic, events, labels, store: app.store } : undefined;
}

/**
 * Undoes whatever was started, in dependency order: traffic (nothing new on the chains), the label updater,
 * xmsg (it reads the chains and writes Redis), then cleanUp(). A stop asked for while the demo is still starting
 * waits for the start to settle, so that nothing started after it is left behind.
 * `judge`: the timed run's verdict decides the exit code; after Ctrl-C it is 0.
 */
async function stop(reason: string, judge: boolean): Promise<never> {
  stopping = true;
  stopAskedAt = Date.now();
  setTimeout(() => {
    console.error(`demo: still stopping after ${STOP_TIMEOUT_MS / 1000} s; leaving now`);
    setTimeout(() => process.exit(1), 10_000).unref();
    void cleanUp().finally(() => process.exit(1));
  }, STOP_TIMEOUT_MS).unref();
  clearInterval(summaryTimer);
  printer.note(`stopping (${reason})…`);

  let ok = false;
  try {
    await starting?.catch(() => undefined);
    await traffic?.stop();
    await labels?.stop();
    alertLines?.stop();
    const sources = summarySources();
    if (sources) ok = await printFinalSummary(printer, sources, judge);
    if (alertLines) printer.raw(`  alerts by state: ${[...alertLines.counts()].map(([state, n]) => `${state} ${n}`).join(', ') || 'none'}`);
    // What xmsg says while it shuts down (jobs cut short) is no news to a person who asked it to stop.
    log?.mute();
    await app?.stop();
  } catch (err) {
    console.error(`demo: stopping failed: ${firstLine(err)}`);
  }
  await cleanUp();
  process.exit(judge && !ok ? 1 : 0);
}

/**
 * What must go however the demo ends: the run's Redis keys (xmsg has stopped writing them), the stand-ins, the
 * chains, and last the private redis-server if the demo started one. Says in one line what it did; runs once.
 */
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    const done: string[] = [];
    if (keysWritten && redis) {
      const deleted = await deleteKeys(redis.url, prefix).catch(() => -1);
      done.push(
        deleted >= 0
          ? `deleted ${deleted} Redis keys under ${prefix}:*`
          : `could not delete Redis keys ${prefix}:* (no answer from ${redis.url})`,
      );
    }
    if (standIns) {
      await standIns.close().catch(() => undefined);
      done.unshift('stand-ins stopped');
    }
    if (devnet) {
      await devnet.stop().catch(() => undefined);
      done.unshift('devnet stopped');
    }
    if (redis?.server) {
      await redis.server.stop().catch(() => undefined);
      done.push('private redis-server stopped');
    }
    if (done.length) printer.note(done.join('; '));
  })();
  return cleaning;
}

/**
 * Ctrl-C in a terminal reaches the demo more than once (the terminal signals the whole process group, and npm and
 * tsx pass it on again): the first one stops the demo, the same one arriving again is ignored. The chains and the
 * private Redis are in process groups of their own, so they are still there for xmsg's last steps.
 */
function onSignal(signal: NodeJS.Signals): void {
  if (!stopping) {
    void stop(signal, false);
    return;
  }
  if (Date.now() - stopAskedAt < 1000) return;
  stopAskedAt = Date.now();
  printer.note(
    `already stopping: xmsg finishes its jobs, then the demo deletes its Redis keys and leaves (within ${STOP_TIMEOUT_MS / 1000} s)`,
  );
}

const seconds = demoSeconds();
// A closed terminal (SIGHUP) is a way out too; writing to it then fails, which must not end the clean-up.
process.stdout.on('error', () => undefined);
process.stderr.on('error', () => undefined);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);

starting = start();
starting.then(
  () => {
    if (seconds !== undefined && !stopping) setTimeout(() => void stop(`XMSG_DEMO_SECONDS=${seconds} elapsed`, true), seconds * 1000);
  },
  async (err: unknown) => {
    // No Redis to be had: the demo's first step, so there is nothing to undo.
    if (err instanceof DemoSetupError) {
      console.error(`demo: ${err.message}`);
      process.exit(1);
    }
    if (err instanceof ConfigError) for (const problem of err.problems) console.error(`demo: config: ${problem}`);
    else console.error(`demo: could not start: ${firstLine(err)}`);
    if (!stopping) await stop('start failed', true);
  },
);
