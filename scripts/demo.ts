/**
 * `npm run demo`: a 3-chain anvil devnet, one xmsg replica in this process, and traffic with trouble now and
 * then, printed as a timeline for a person at a terminal. Runs until Ctrl-C, or for XMSG_DEMO_SECONDS seconds
 * (then exits 1 if it demonstrated nothing; that makes it a smoke test).
 *
 * xmsg is configured from the environment like `npm start`, with demo defaults (promotion deadline 20 s, log
 * level warn) that the environment may override; the RPCs, the Redis prefix and (unless set) the port are the
 * demo's own, and chat is off unless XMSG_DEMO_CHAT=1. Every Redis key of the run is deleted on exit.
 */
import { type App, startApp } from '../src/app.js';
import { probeChainId } from '../src/chain/rpc.js';
import { type Config, ConfigError, loadConfig } from '../src/config.js';
import { type Devnet, emitInitiating, setNextBlockTimestamp, startDevnet } from '../src/devnet/devnet.js';
import { AlertLines } from './demo/alerts.js';
import { BLOCK_TIME_S } from './demo/chain-ops.js';
import { EventWatch } from './demo/events.js';
import { SafetyLabels } from './demo/labels.js';
import { type DemoLogger, demoLogger } from './demo/log-sink.js';
import { bold, Printer, paint } from './demo/print.js';
import { checkRedis, choosePort, deleteKeys, demoPrefix } from './demo/setup.js';
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
  // A local node answers in milliseconds. On Ctrl-C the anvils die first (the terminal signals the whole process
  // group, and the devnet's exit hook kills them too), so xmsg's last RPCs fail; quick retries keep the stop quick.
  XMSG_RPC_RETRY_DELAY_MS: '200',
};

const printer = new Printer();
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = demoPrefix();

// Everything started so far, so that a stop at any moment (even mid-start) undoes exactly that.
let devnet: Devnet | undefined;
let labels: SafetyLabels | undefined;
let app: App | undefined;
let log: DemoLogger | undefined;
let traffic: Traffic | undefined;
let events: EventWatch | undefined;
let alertLines: AlertLines | undefined;
let summaryTimer: NodeJS.Timeout | undefined;
let stopping = false;

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
  await checkRedis(redisUrl);
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
  labels = new SafetyLabels(devnet);
  await labels.start();

  const env: NodeJS.ProcessEnv = {
    ...DEMO_DEFAULTS,
    ...withoutChat(process.env),
    XMSG_HTTP_PORT: process.env.XMSG_HTTP_PORT ?? String(await choosePort()),
    XMSG_REDIS_PREFIX: prefix,
    XMSG_L2_RPCS: devnet.chains.map((c) => c.rpcUrl).join(','),
  };
  const config = await loadConfig(env, (url) => probeChainId(url));
  log = demoLogger(config, printer);
  // The traffic registry is what names a message's events; events may only arrive once traffic exists.
  events = new EventWatch(printer, (msgHash) => traffic?.labelOf(msgHash));
  app = await startApp(config, { handlers: [events], logger: log.logger });

  const base = `http://127.0.0.1:${app.port}`;
  printer.raw();
  printer.raw(bold('xmsg demo'));
  printer.raw(`  chains     ${devnet.chains.map((c) => `${c.chainId} ${c.rpcUrl}`).join('   ')}  (xmsg's view, through the label proxy)`);
  if (config.env.XMSG_CONSOLE)
    printer.raw(`  console    ${bold(`http://localhost:${app.port}/`)}  (alerts, threads, buttons and /xmsg commands, live)`);
  printer.raw(`  metrics    ${base}/metrics`);
  printer.raw(`  messages   ${base}/api/messages/<msgHash>`);
  printer.raw(`  alerts     ${base}/api/alerts?state=all`);
  printer.raw(`  health     ${base}/healthz  ${base}/readyz`);
  printer.raw(`  redis      ${redisUrl}  keys ${prefix}:*  (deleted on exit)`);
  printer.raw(`  safe = latest - 2, finalized = latest - 5; promotion deadline ${config.promotionDeadlineS} s`);
  printer.raw(
    paint('grey', '             (xmsg forgets a message once both its blocks are final, seconds here; replaced ones stay an hour)'),
  );
  printer.raw(`  Slack/Discord ${chatText(config.env)}`);
  printer.raw(paint('grey', '  Ctrl-C to stop'));
  printer.raw();

  traffic = new Traffic({ devnet, labels, events, printer, promotionDeadlineS: config.promotionDeadlineS, apiBase: base, stale });
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

function chatText(env: Config['env']): string {
  const on = [env.SLACK_BOT_TOKEN && `Slack ${env.SLACK_CHANNEL_ID}`, env.DISCORD_BOT_TOKEN && `Discord ${env.DISCORD_CHANNEL_ID}`].filter(
    Boolean,
  );
  return on.length ? `alerts go to ${on.join(' and ')}` : 'off (XMSG_DEMO_CHAT=1 keeps the SLACK_*/DISCORD_* settings of the environment)';
}

function summarySources(): SummarySources | undefined {
  return traffic && events && labels && app ? { traffic, events, labels, store: app.store } : undefined;
}

/**
 * Undoes whatever was started, in dependency order: traffic (nothing new on the chains), the label updater,
 * xmsg (it reads the chains and writes Redis), the devnet, and last the run's Redis keys.
 * `judge`: the timed run's verdict decides the exit code; after Ctrl-C it is 0.
 */
async function stop(reason: string, judge: boolean): Promise<never> {
  if (stopping) process.exit(1);
  stopping = true;
  setTimeout(() => {
    console.error(`demo: still stopping after ${STOP_TIMEOUT_MS / 1000} s; leaving (Redis keys ${prefix}:* may remain)`);
    process.exit(1);
  }, STOP_TIMEOUT_MS).unref();
  clearInterval(summaryTimer);
  printer.note(`stopping (${reason})…`);

  let ok = false;
  try {
    await traffic?.stop();
    await labels?.stop();
    alertLines?.stop();
    const sources = summarySources();
    if (sources) ok = await printFinalSummary(printer, sources, judge);
    if (alertLines) printer.raw(`  alerts by state: ${[...alertLines.counts()].map(([state, n]) => `${state} ${n}`).join(', ') || 'none'}`);
    // Shutting down makes xmsg's RPCs fail on purpose; those warnings would only confuse.
    log?.mute();
    await app?.stop();
  } catch (err) {
    console.error(`demo: stopping failed: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    await devnet?.stop().catch(() => undefined);
    const deleted = await deleteKeys(redisUrl, prefix).catch(() => -1);
    printer.note(
      deleted >= 0
        ? `devnet stopped; deleted ${deleted} Redis keys under ${prefix}:*`
        : `devnet stopped; could not delete Redis keys ${prefix}:*`,
    );
  }
  process.exit(judge && !ok ? 1 : 0);
}

const seconds = demoSeconds();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => void stop(signal, false));
}

start().then(
  () => {
    if (seconds !== undefined) setTimeout(() => void stop(`XMSG_DEMO_SECONDS=${seconds} elapsed`, true), seconds * 1000);
  },
  async (err: unknown) => {
    if (err instanceof ConfigError) for (const problem of err.problems) console.error(`demo: config: ${problem}`);
    else console.error(`demo: could not start: ${err instanceof Error ? err.message : String(err)}`);
    await stop('start failed', true);
  },
);
