import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { type Address, getAddress, isAddress } from 'viem';
import { z } from 'zod';
import { builtInPolicy, type EscalationPolicy, parseEscalationPolicy } from './alerts/escalation-policy.js';
import { readJwtSecret } from './chain/failsafe-admin.js';
import { DEFAULT_INBOX_ADDRESS } from './chain/inbox.js';
import { ACTIVE_SINCE_GENESIS, type DependencyChain } from './chain/validity.js';
import type { ConsolePlatformSettings } from './chat/console/platform.js';
import type { DiscordPlatformSettings } from './chat/discord/platform.js';
import type { SlackPlatformSettings } from './chat/slack/platform.js';
import { firstLine, safeUrl, scrubSecrets } from './errors.js';
import type { RedisTarget } from './store/redis.js';

/**
 * The protocol's message expiry window, 7 days: op-core's MessageExpiryTimeSecondsInterop (interop/depset), kona's
 * MESSAGE_EXPIRY_WINDOW. A dependency set may shorten it, never lengthen it (op-core's hydrate refuses a longer
 * overrideMessageExpiryWindow, kona's MessageExpiryOverride cannot hold one): L2ToL2CrossDomainMessenger expires
 * messages a day after it, so a longer window could let an expired message still be relayed.
 */
export const DEFAULT_EXPIRY_WINDOW_S = 604_800;

/** Every problem found in the configuration, one line each, so an operator fixes them all in one go. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

// Problems never echo the value (it may be a secret), so a value that is no number is told so in words.
const positiveInt = (fallback: number) => z.coerce.number({ error: 'must be a number' }).int().positive().default(fallback);
const nonNegativeInt = (fallback: number) => z.coerce.number({ error: 'must be a number' }).int().nonnegative().default(fallback);
const optionalText = z.string().trim().min(1).optional();
const splitList = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
/** A comma-separated list; empty when unset. */
const optionalList = z
  .string()
  .optional()
  .transform((s) => splitList(s ?? ''));

/** A shared secret an operator types or a scraper sends: long enough that it cannot be guessed online. */
const secretToken = z
  .string()
  .trim()
  .min(16, 'must be at least 16 characters (e.g. openssl rand -hex 24)')
  .refine((s) => !/\s/.test(s), 'must not contain spaces')
  .optional();

const httpUrl = z
  .string()
  .trim()
  .refine((s) => {
    try {
      const u = new URL(s);
      return u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      return false;
    }
  }, 'must be an http(s) URL');

/** One entry of XMSG_L2_RPCS: a URL, or `<chain id>=<url>` for a chain that may be down at start. */
export interface RpcEntry {
  url: string;
  /** The chain id the entry declares; absent when it comes from the node at start. */
  chainId?: number;
}

/** Problems name the entry by its position and host, never its whole URL (hosted endpoints carry keys in it). */
function rpcEntry(entry: string, index: number, ctx: z.RefinementCtx): RpcEntry {
  const declared = /^(\d+)=(.*)$/.exec(entry);
  const url = (declared ? declared[2] : entry)!.trim();
  const chainId = declared ? Number(declared[1]) : undefined;
  if (!httpUrl.safeParse(url).success) {
    ctx.addIssue({ code: 'custom', message: `entry ${index + 1} must be an http(s) URL, or <chain id>=<http(s) URL>` });
  } else if (chainId !== undefined && (!Number.isSafeInteger(chainId) || chainId <= 0 || /^0/.test(declared![1]!))) {
    ctx.addIssue({
      code: 'custom',
      message: `entry ${index + 1} (${safeUrl(url)}) declares chain id ${declared![1]}, not a positive decimal number`,
    });
  }
  return { url, chainId };
}

const envSchema = z.object({
  REDIS_URL: z
    .string()
    .default('redis://127.0.0.1:6379')
    .refine((s) => /^rediss?:\/\//.test(s), 'must be a redis:// or rediss:// URL'),
  REDIS_SENTINELS: optionalList.pipe(z.array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port entries, comma-separated'))),
  REDIS_SENTINEL_NAME: optionalText,
  REDIS_CLUSTER_NODES: optionalList.pipe(z.array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port entries, comma-separated'))),
  // Above BullMQ's longest blocking wait (10 s), or idle workers would be cut off.
  XMSG_REDIS_SOCKET_TIMEOUT_S: z.coerce
    .number()
    .int()
    .min(15, 'must be at least 15 (s): BullMQ workers wait up to 10 s for a job')
    .default(30),
  XMSG_REDIS_PREFIX: z
    .string()
    .default('xmsg')
    .refine(
      (s) => /^[A-Za-z0-9_.{}-]+$/.test(s),
      'only letters, digits and _ . - { } (it starts every key and queue name; {braces} pin them to one Redis Cluster slot)',
    ),
  XMSG_L2_RPCS: z
    .string({ error: 'is required: comma-separated execution RPC URLs (or <chain id>=<url>), one per chain' })
    .transform(splitList)
    .pipe(z.array(z.string()).min(1, 'needs at least one RPC URL'))
    .transform((entries, ctx) => entries.map((entry, i) => rpcEntry(entry, i, ctx))),
  XMSG_STARTUP_RPC_WAIT_S: nonNegativeInt(30),
  XMSG_DEPENDENCY_SET: optionalText,
  XMSG_INBOX_ADDRESS: z
    .string()
    .default(DEFAULT_INBOX_ADDRESS)
    .refine((s) => isAddress(s, { strict: false }), 'must be a 20-byte hex address')
    .transform((s) => getAddress(s)),
  XMSG_POLL_INTERVAL_MS: positiveInt(1000),
  XMSG_START_BLOCKS_BACK: nonNegativeInt(100),
  XMSG_PROMOTION_DEADLINE_S: positiveInt(1800),
  XMSG_PENDING_DEADLINE_S: positiveInt(300),
  XMSG_MAX_BLOCK_RANGE: positiveInt(1000),
  XMSG_HEAD_STALL_S: nonNegativeInt(300),
  XMSG_RPC_RETRIES: nonNegativeInt(3),
  XMSG_RPC_RETRY_DELAY_MS: positiveInt(1000),
  XMSG_RPC_TIMEOUT_MS: positiveInt(10_000),
  XMSG_UNHEALTHY_AFTER_FAILURES: positiveInt(3),
  XMSG_RECHECK_BASE_MS: positiveInt(2000),
  XMSG_RECHECK_MAX_MS: positiveInt(60_000),
  XMSG_CHECKER_CONCURRENCY: positiveInt(64),
  XMSG_REPLICA_ID: z
    .string()
    .trim()
    .regex(/^[\w.-]{1,64}$/, 'must be 1 to 64 letters, digits, dots, dashes or underscores')
    .optional(),
  XMSG_ESCALATE_AFTER_S: positiveInt(300),
  XMSG_ESCALATION_REPEAT_S: positiveInt(900),
  XMSG_ESCALATION_POLICY: optionalText,
  XMSG_ALERT_RETENTION_S: positiveInt(2_592_000),
  XMSG_ALERT_GROUP_WINDOW_S: positiveInt(600),
  XMSG_CHAT_MAX_PER_S: positiveInt(1),
  XMSG_STATUS_LOOKBACK_BLOCKS: positiveInt(5000),
  XMSG_DROPPED_RETENTION_S: positiveInt(3600),
  XMSG_SHUTDOWN_GRACE_S: positiveInt(20),
  XMSG_HTTP_PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  XMSG_HTTP_HOST: z
    .string()
    .trim()
    .refine((s) => isIP(s) !== 0 || s === 'localhost', 'must be an IP address to bind to (0.0.0.0, 127.0.0.1, ::) or localhost')
    .default('0.0.0.0'),
  XMSG_API_TOKEN: secretToken,
  XMSG_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // The second opinions (docs/ARCHITECTURE.md §5): op-supernode's view of cross-safety, op-interop-filter's access-list check.
  XMSG_SUPERNODE_RPCS: optionalList.pipe(z.array(httpUrl)),
  XMSG_INTEROP_FILTER_RPC: httpUrl.optional(),
  XMSG_CONSOLE: z
    .enum(['0', '1', 'false', 'true'], { error: 'must be 1 (on) or 0 (off)' })
    .default('0')
    .transform((v) => v === '1' || v === 'true'),
  XMSG_CONSOLE_TOKEN: secretToken,
  XMSG_FAILSAFE_RPCS: optionalList.pipe(z.array(httpUrl)),
  XMSG_FAILSAFE_JWT_SECRET: optionalText,
  XMSG_FAILSAFE_CONFIRM_S: positiveInt(600),
  XMSG_FAILSAFE_AUTO: z
    .enum(['violation', 'off'], { error: 'must be violation (enable the failsafe at once on a cross-safety violation) or off' })
    .default('off'),
  XMSG_FAILSAFE_POLL_MS: positiveInt(5000),
  XMSG_FAILSAFE_RETRY_MS: positiveInt(3000),
  SLACK_BOT_TOKEN: optionalText,
  SLACK_SIGNING_SECRET: optionalText,
  SLACK_CHANNEL_ID: optionalText,
  SLACK_ONCALL_GROUP_ID: optionalText,
  SLACK_ESCALATION_GROUP_ID: optionalText,
  SLACK_ADMIN_USER_IDS: optionalList,
  SLACK_API_URL: httpUrl.default('https://slack.com/api/'),
  DISCORD_BOT_TOKEN: optionalText,
  DISCORD_APPLICATION_ID: optionalText,
  DISCORD_CHANNEL_ID: optionalText,
  DISCORD_ONCALL_ROLE_ID: optionalText,
  DISCORD_ESCALATION_ROLE_ID: optionalText,
  DISCORD_GUILD_ID: optionalText,
  DISCORD_ADMIN_ROLE_IDS: optionalList,
  DISCORD_API_URL: httpUrl.default('https://discord.com/api'),
  DISCORD_PUBLIC_KEY: z
    .string()
    .trim()
    .regex(/^[0-9a-fA-F]{64}$/, 'must be the 64 hex characters of the public key shown in the Developer Portal')
    .optional(),
});

export type Env = z.infer<typeof envSchema>;

/** Every environment variable xmsg reads. */
export const ENV_VARIABLES: readonly string[] = Object.keys(envSchema.shape);

const expiryWindowAtMost = z
  .number()
  .int()
  .max(DEFAULT_EXPIRY_WINDOW_S, {
    error: (issue) =>
      `${issue.input} s is longer than the protocol's ${DEFAULT_EXPIRY_WINDOW_S} s message expiry window, which a dependency set may shorten, never lengthen`,
  });
const seconds = z.number().int().nonnegative();

/**
 * The dependency set file as op-node, op-supernode and kona read it (op-core interop/depset StaticConfigDependencySet;
 * the chainIndex, activationTime and historyMinTime of each entry are those of its op-supervisor-era form, and kona's
 * ChainDependency). Strict, unlike Go's encoding/json: a misspelt key would silently drop a rule.
 */
const dependencySetFileSchema = z.strictObject({
  dependencies: z.record(
    z.string(),
    z.strictObject({
      chainIndex: z.number().int().min(0).max(0xffff_ffff).optional(),
      activationTime: seconds.optional(),
      historyMinTime: seconds.optional(),
    }),
  ),
  // 0 or null: the protocol's window, as op-core (`== 0`) and kona (`Some(w) if w > 0`) read it.
  overrideMessageExpiryWindow: expiryWindowAtMost.nonnegative().nullable().optional(),
});

/** xmsg's short form: the chain ids, and an expiry window. */
const shortDependencySetSchema = z.strictObject({
  chainIds: z.array(z.union([z.number().int().positive(), z.string().regex(/^[1-9]\d*$/, 'must be a decimal chain id')])).min(1),
  expiryWindow: expiryWindowAtMost.positive().optional(),
});

export interface ChainConfig {
  chainId: number;
  rpcUrl: string;
  /**
   * Declared as `<chain id>=<url>` and not confirmed at start (its node did not answer): the RPC client asks the node
   * its chain id before using it, and the follower reports the chain unhealthy until it answers this one.
   */
  unconfirmed?: boolean;
  /** Declared as `<chain id>=<url>`: the follower checks the node still answers this chain id at every step. */
  declared?: boolean;
}

export interface Config {
  redis: RedisTarget;
  prefix: string;
  chains: ChainConfig[];
  /** The dependency set: the chains initiating messages may come from, with their activation. */
  dependencySet: ReadonlyMap<number, DependencyChain>;
  expiryWindowS: number;
  inbox: Address;
  pollIntervalMs: number;
  startBlocksBack: number;
  promotionDeadlineS: number;
  pendingDeadlineS: number;
  maxBlockRange: number;
  headStallS: number;
  failuresBeforeUnhealthy: number;
  recheck: { baseMs: number; maxMs: number };
  rpc: { retries: number; retryDelayMs: number; timeoutMs: number };
  checkerConcurrency: number;
  /**
   * XMSG_REPLICA_ID: this replica's id, stable across its restarts (with the host name): started again after a crash,
   * it takes its own chains' leases over at once instead of waiting for them to expire.
   */
  replicaId?: string;
  droppedRetentionS: number;
  alerts: { retentionS: number; groupWindowS: number; chatMaxPerS: number; escalation: EscalationPolicy };
  statusLookbackBlocks: number;
  httpPort: number;
  /** XMSG_HTTP_HOST: the address the HTTP server binds to. */
  httpHost: string;
  /** XMSG_API_TOKEN: the bearer token `/api/*` and `/metrics` require; open when unset. */
  apiToken?: string;
  /** How long a graceful stop may take before connections are cut (a pod's grace period is usually 30 s). */
  shutdownGraceMs: number;
  logLevel: Env['XMSG_LOG_LEVEL'];
  /** op-supernode endpoints asked about each cross-safety violation and for the supernode gauges; empty when unset. */
  supernodeRpcs: string[];
  /** op-interop-filter endpoint asked about each settled executing message. */
  interopFilterRpc?: string;
  /** Each chat platform's section, present when the platform is on. */
  slack?: SlackPlatformSettings;
  discord?: DiscordPlatformSettings;
  console?: ConsolePlatformSettings;
  /** The interop failsafe's admin endpoints, when XMSG_FAILSAFE_RPCS is set (src/alerts/failsafe.ts). */
  failsafe?: FailsafeConfig;
}

export interface FailsafeConfig {
  rpcs: string[];
  /** The JWT secret's 32 bytes (XMSG_FAILSAFE_JWT_SECRET's file); without it no token is sent. */
  secret?: Buffer;
  confirmS: number;
  auto: boolean;
  pollMs: number;
  retryMs: number;
}

/** Validates the environment without touching the network. */
export function parseEnv(env: NodeJS.ProcessEnv): Env {
  // An empty variable (`FOO=` in a .env file) means "not set", the same for every variable.
  const set = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const parsed = envSchema.safeParse(set);
  if (parsed.success) return parsed.data;
  throw new ConfigError(
    parsed.error.issues.map((issue) => {
      // The variable, never its value: it may be a token, or a URL with a key or a password in it.
      const name = issue.path.map(String)[0] ?? '(environment)';
      return `${name}: ${issue.message}`;
    }),
  );
}

export type ChainIdProbe = (rpcUrl: string) => Promise<number>;

/**
 * Full configuration: the environment, then each RPC's chain id (via `probeChainId`), then the dependency set.
 * All problems are collected before failing.
 */
export async function loadConfig(env: NodeJS.ProcessEnv, probeChainId: ChainIdProbe): Promise<Config> {
  const e = parseEnv(env);
  const problems: string[] = [];
  const { chains } = await probeChains(e.XMSG_L2_RPCS, probeChainId, problems, {
    waitMs: e.XMSG_STARTUP_RPC_WAIT_S * 1000,
    retryDelayMs: e.XMSG_RPC_RETRY_DELAY_MS,
  });
  // A dependency-set chain without an RPC is not a problem: its messages are `unverified`, and the checker warns once
  // per such chain at start (src/jobs/checker.ts, announceUnwatchedChains).
  const dependencies = await readDependencySet(e.XMSG_DEPENDENCY_SET, chains, problems);
  const escalation = await readEscalationPolicy(e, problems);
  const failsafe = await failsafeSection(e, problems);
  problems.push(...missingCompanions(e));
  if (problems.length) throw new ConfigError(problems);

  return {
    redis: {
      url: e.REDIS_URL,
      sentinels: e.REDIS_SENTINELS.map(hostPort),
      sentinelName: e.REDIS_SENTINEL_NAME,
      clusterNodes: e.REDIS_CLUSTER_NODES.map(hostPort),
      socketTimeoutMs: e.XMSG_REDIS_SOCKET_TIMEOUT_S * 1000,
    },
    prefix: e.REDIS_CLUSTER_NODES.length ? clusterPrefix(e.XMSG_REDIS_PREFIX) : e.XMSG_REDIS_PREFIX,
    chains,
    dependencySet: dependencies.chains,
    expiryWindowS: dependencies.expiryWindowS,
    inbox: e.XMSG_INBOX_ADDRESS,
    pollIntervalMs: e.XMSG_POLL_INTERVAL_MS,
    startBlocksBack: e.XMSG_START_BLOCKS_BACK,
    promotionDeadlineS: e.XMSG_PROMOTION_DEADLINE_S,
    pendingDeadlineS: e.XMSG_PENDING_DEADLINE_S,
    maxBlockRange: e.XMSG_MAX_BLOCK_RANGE,
    headStallS: e.XMSG_HEAD_STALL_S,
    failuresBeforeUnhealthy: e.XMSG_UNHEALTHY_AFTER_FAILURES,
    recheck: { baseMs: e.XMSG_RECHECK_BASE_MS, maxMs: e.XMSG_RECHECK_MAX_MS },
    rpc: { retries: e.XMSG_RPC_RETRIES, retryDelayMs: e.XMSG_RPC_RETRY_DELAY_MS, timeoutMs: e.XMSG_RPC_TIMEOUT_MS },
    checkerConcurrency: e.XMSG_CHECKER_CONCURRENCY,
    ...(e.XMSG_REPLICA_ID ? { replicaId: e.XMSG_REPLICA_ID } : {}),
    droppedRetentionS: e.XMSG_DROPPED_RETENTION_S,
    alerts: {
      escalation,
      retentionS: e.XMSG_ALERT_RETENTION_S,
      groupWindowS: e.XMSG_ALERT_GROUP_WINDOW_S,
      chatMaxPerS: e.XMSG_CHAT_MAX_PER_S,
    },
    statusLookbackBlocks: e.XMSG_STATUS_LOOKBACK_BLOCKS,
    httpPort: e.XMSG_HTTP_PORT,
    httpHost: e.XMSG_HTTP_HOST,
    apiToken: e.XMSG_API_TOKEN,
    shutdownGraceMs: e.XMSG_SHUTDOWN_GRACE_S * 1000,
    logLevel: e.XMSG_LOG_LEVEL,
    supernodeRpcs: e.XMSG_SUPERNODE_RPCS,
    interopFilterRpc: e.XMSG_INTEROP_FILTER_RPC,
    slack: slackSection(e),
    discord: discordSection(e),
    console: e.XMSG_CONSOLE ? { retentionS: e.XMSG_ALERT_RETENTION_S, token: e.XMSG_CONSOLE_TOKEN } : undefined,
    failsafe,
  };
}

/**
 * Each RPC's chain id. An RPC given as a URL is asked eth_chainId again, with the RPC client's backoff (doubling from
 * XMSG_RPC_RETRY_DELAY_MS), until it answers or XMSG_STARTUP_RPC_WAIT_S has passed: a node in a blip must not stop a
 * replica's start. A chain declared as `<chain id>=<url>` is asked once: its node may be down (xmsg starts, and the
 * follower reports the chain unhealthy until it answers), but a node that answers another chain's id is a problem.
 * Two RPCs of one chain are a problem too.
 */
async function probeChains(
  entries: RpcEntry[],
  probeChainId: ChainIdProbe,
  problems: string[],
  { waitMs, retryDelayMs }: { waitMs: number; retryDelayMs: number },
): Promise<{ chains: ChainConfig[] }> {
  const deadline = Date.now() + waitMs;
  const probed = await Promise.all(
    entries.map(async ({ url: rpcUrl, chainId: declared }): Promise<ChainConfig | undefined> => {
      for (let attempt = 0; ; attempt++) {
        try {
          const chainId = await probeChainId(rpcUrl);
          if (declared === undefined) return { chainId, rpcUrl };
          if (chainId === declared) return { chainId, rpcUrl, declared: true };
          problems.push(`XMSG_L2_RPCS: ${safeUrl(rpcUrl)} is declared as chain ${declared} but answers eth_chainId ${chainId}`);
          return undefined;
        } catch (err) {
          if (declared !== undefined) return { chainId: declared, rpcUrl, declared: true, unconfirmed: true };
          const pause = Math.min(retryDelayMs * 2 ** attempt, deadline - Date.now());
          if (pause <= 0) {
            const waited = waitMs ? ` within ${Math.round(waitMs / 1000)} s` : '';
            // The probe's error names the host only (src/chain/rpc.ts, RpcFailure); scrubbed in case another probe is used.
            problems.push(`XMSG_L2_RPCS: ${safeUrl(rpcUrl)} did not answer eth_chainId${waited} (${scrubSecrets(firstLine(err))})`);
            return undefined;
          }
          await delay(pause);
        }
      }
    }),
  );
  const chains = probed.filter((c): c is ChainConfig => c !== undefined);
  const byChainId = new Map<number, string>();
  for (const c of chains) {
    const other = byChainId.get(c.chainId);
    if (other)
      problems.push(`XMSG_L2_RPCS: ${safeUrl(other)} and ${safeUrl(c.rpcUrl)} are both chain ${c.chainId}; give one RPC per chain`);
    else byChainId.set(c.chainId, c.rpcUrl);
  }
  return { chains };
}

/**
 * The escalation ladder of each alert kind: the built-in one from XMSG_ESCALATE_AFTER_S and XMSG_ESCALATION_REPEAT_S,
 * or as the policy file XMSG_ESCALATION_POLICY sets it (src/alerts/escalation-policy.ts), each problem a line.
 */
async function readEscalationPolicy(e: Env, problems: string[]): Promise<EscalationPolicy> {
  const timings = { escalateAfterS: e.XMSG_ESCALATE_AFTER_S, escalationRepeatS: e.XMSG_ESCALATION_REPEAT_S };
  const path = e.XMSG_ESCALATION_POLICY;
  if (!path) return builtInPolicy(timings);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    problems.push(`XMSG_ESCALATION_POLICY: cannot read ${path} as JSON (${firstLine(err)})`);
    return builtInPolicy(timings);
  }
  const parsed = parseEscalationPolicy(raw, timings);
  if (parsed.ok) return parsed.policy;
  problems.push(...parsed.problems.map((p) => `XMSG_ESCALATION_POLICY: ${path}: ${p}`));
  return builtInPolicy(timings);
}

/** The dependency set file (XMSG_DEPENDENCY_SET), or by default the configured chains with the 7-day expiry window. */
async function readDependencySet(
  path: string | undefined,
  chains: ChainConfig[],
  problems: string[],
): Promise<{ chains: ReadonlyMap<number, DependencyChain>; expiryWindowS: number }> {
  const configured = {
    chains: new Map(chains.map((c) => [c.chainId, ACTIVE_SINCE_GENESIS])),
    expiryWindowS: DEFAULT_EXPIRY_WINDOW_S,
  };
  if (!path) return configured;
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    problems.push(`XMSG_DEPENDENCY_SET: cannot read ${path} as JSON (${firstLine(err)})`);
    return configured;
  }
  const parsed = parseDependencySet(raw);
  if ('problems' in parsed) {
    problems.push(...parsed.problems.map((p) => `XMSG_DEPENDENCY_SET: ${path}: ${p}`));
    return configured;
  }
  return parsed;
}

/** The dependency set from the file's JSON, in either form; every problem one line. */
function parseDependencySet(
  raw: unknown,
): { chains: ReadonlyMap<number, DependencyChain>; expiryWindowS: number } | { problems: string[] } {
  const isObject = typeof raw === 'object' && raw !== null && !Array.isArray(raw);
  if (isObject && 'chainIds' in raw) {
    const short = shortDependencySetSchema.safeParse(raw);
    if (!short.success) return { problems: issueLines(short.error, () => Object.keys(shortDependencySetSchema.shape)) };
    const ids = short.data.chainIds.map(Number);
    const tooLarge = ids.filter((id) => !Number.isSafeInteger(id));
    if (tooLarge.length) return { problems: tooLarge.map((id) => `chainIds: chain id ${id} is larger than xmsg supports (2^53 - 1)`) };
    return {
      chains: new Map(ids.map((id) => [id, ACTIVE_SINCE_GENESIS])),
      expiryWindowS: short.data.expiryWindow ?? DEFAULT_EXPIRY_WINDOW_S,
    };
  }
  if (!isObject || !('dependencies' in raw)) {
    return {
      problems: [
        'needs "dependencies" (the op-node/op-supernode/kona file: {"dependencies": {"<chain id>": {}}}) or "chainIds" (xmsg\'s short form)',
      ],
    };
  }
  const file = dependencySetFileSchema.safeParse(raw);
  const entryKeys = Object.keys(dependencySetFileSchema.shape.dependencies.valueType.shape);
  const fileKeys = Object.keys(dependencySetFileSchema.shape);
  if (!file.success) return { problems: issueLines(file.error, (path) => (path.length ? entryKeys : fileKeys)) };
  const problems: string[] = [];
  const chains = new Map<number, DependencyChain>();
  const byIndex = new Map<number, string>();
  for (const [key, entry] of Object.entries(file.data.dependencies)) {
    // Decimal, as op-core's ParseDecimalChainID reads it; no leading zero, so "07" and "7" cannot both name chain 7.
    if (!/^[1-9]\d*$/.test(key)) {
      problems.push(`dependencies: "${key}" is not a chain id (a decimal number without leading zeros)`);
      continue;
    }
    const chainId = Number(key);
    if (!Number.isSafeInteger(chainId)) {
      problems.push(`dependencies: chain id ${key} is larger than xmsg supports (2^53 - 1)`);
      continue;
    }
    // op-supervisor's hydrate refused two chains with one index (errDuplicateChainIndex).
    if (entry.chainIndex !== undefined) {
      const other = byIndex.get(entry.chainIndex);
      if (other) problems.push(`dependencies: chains ${other} and ${key} have the same chainIndex ${entry.chainIndex}`);
      byIndex.set(entry.chainIndex, key);
    }
    chains.set(chainId, { activationTime: BigInt(entry.activationTime ?? 0), historyMinTime: BigInt(entry.historyMinTime ?? 0) });
  }
  if (!chains.size && !problems.length) problems.push('dependencies: names no chain');
  if (problems.length) return { problems };
  return { chains, expiryWindowS: file.data.overrideMessageExpiryWindow || DEFAULT_EXPIRY_WINDOW_S };
}

/** A schema's issues, one line each: where in the file, then what; an unknown key with the keys known there. */
function issueLines(error: z.ZodError, knownKeys: (path: PropertyKey[]) => string[]): string[] {
  return error.issues.map((issue) => {
    const where = issue.path.map(String).join('.');
    const what =
      issue.code === 'unrecognized_keys'
        ? `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')} (known: ${knownKeys(issue.path).join(', ')})`
        : issue.message;
    return where ? `${where}: ${what}` : what;
  });
}

/**
 * The failsafe is on when XMSG_FAILSAFE_RPCS is set; its secret file must then hold 32 bytes of hex (op-service's
 * JWT secret). Its other variables without endpoints are a mistake worth a line: the operator thinks it is on.
 */
async function failsafeSection(e: Env, problems: string[]): Promise<FailsafeConfig | undefined> {
  const path = e.XMSG_FAILSAFE_JWT_SECRET;
  if (!e.XMSG_FAILSAFE_RPCS.length) {
    if (path) problems.push('XMSG_FAILSAFE_JWT_SECRET: set, but XMSG_FAILSAFE_RPCS is not: name the admin endpoints it is for');
    if (e.XMSG_FAILSAFE_AUTO === 'violation')
      problems.push('XMSG_FAILSAFE_AUTO: violation needs XMSG_FAILSAFE_RPCS, the admin endpoints to call');
    return undefined;
  }
  let secret: Buffer | undefined;
  if (path) {
    try {
      secret = await readJwtSecret(path);
    } catch (err) {
      problems.push(
        `XMSG_FAILSAFE_JWT_SECRET: ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : firstLine(err)}`,
      );
    }
  }
  return {
    rpcs: e.XMSG_FAILSAFE_RPCS,
    secret,
    confirmS: e.XMSG_FAILSAFE_CONFIRM_S,
    auto: e.XMSG_FAILSAFE_AUTO === 'violation',
    pollMs: e.XMSG_FAILSAFE_POLL_MS,
    retryMs: e.XMSG_FAILSAFE_RETRY_MS,
  };
}

const hostPort = (hp: string) => ({ host: hp.slice(0, hp.lastIndexOf(':')), port: Number(hp.slice(hp.lastIndexOf(':') + 1)) });

/**
 * The key prefix in Redis Cluster mode: one hash tag, so every key of the deployment, BullMQ's queues included (BullMQ
 * wants its prefix to be a hash tag on a Cluster), lands in one slot, where every Lua script and MULTI may touch them
 * together. One deployment uses one master; several deployments spread over the Cluster (docs/ARCHITECTURE.md §4).
 * A prefix that already has braces is the operator's own tag, used as is.
 */
export function clusterPrefix(prefix: string): string {
  return /\{[^}]+\}/.test(prefix) ? prefix : `{${prefix}}`;
}

/** Variables that one set variable makes required. */
function missingCompanions(e: Env): string[] {
  const problems: string[] = [];
  if (e.REDIS_SENTINELS.length && !e.REDIS_SENTINEL_NAME)
    problems.push('REDIS_SENTINEL_NAME: required when REDIS_SENTINELS is set (the master name the Sentinels monitor)');
  if (e.REDIS_CLUSTER_NODES.length && e.REDIS_SENTINELS.length)
    problems.push('REDIS_CLUSTER_NODES: set it or REDIS_SENTINELS, not both (a Redis Cluster fails over by itself)');
  if (e.REDIS_CLUSTER_NODES.length && /^rediss?:\/\/[^/]*\/0*[1-9]/.test(e.REDIS_URL))
    problems.push('REDIS_URL: names a database other than 0, and a Redis Cluster has only database 0');
  if (e.SLACK_BOT_TOKEN) {
    if (!e.SLACK_SIGNING_SECRET) problems.push('SLACK_SIGNING_SECRET: required when SLACK_BOT_TOKEN is set');
    if (!e.SLACK_CHANNEL_ID) problems.push('SLACK_CHANNEL_ID: required when SLACK_BOT_TOKEN is set');
  }
  if (e.DISCORD_BOT_TOKEN) {
    if (!e.DISCORD_APPLICATION_ID) problems.push('DISCORD_APPLICATION_ID: required when DISCORD_BOT_TOKEN is set');
    if (!e.DISCORD_CHANNEL_ID) problems.push('DISCORD_CHANNEL_ID: required when DISCORD_BOT_TOKEN is set');
  }
  return problems;
}

/** Slack is on when SLACK_BOT_TOKEN is set (its companions were checked by then). */
function slackSection(e: Env): SlackPlatformSettings | undefined {
  if (!e.SLACK_BOT_TOKEN) return undefined;
  return {
    token: e.SLACK_BOT_TOKEN,
    signingSecret: e.SLACK_SIGNING_SECRET!,
    channel: e.SLACK_CHANNEL_ID!,
    apiUrl: e.SLACK_API_URL,
    oncallGroupId: e.SLACK_ONCALL_GROUP_ID,
    escalationGroupId: e.SLACK_ESCALATION_GROUP_ID,
    adminUserIds: e.SLACK_ADMIN_USER_IDS,
  };
}

/** Discord is on when DISCORD_BOT_TOKEN is set; its HTTP interactions endpoint when DISCORD_PUBLIC_KEY is too. */
function discordSection(e: Env): DiscordPlatformSettings | undefined {
  if (!e.DISCORD_BOT_TOKEN) return undefined;
  return {
    token: e.DISCORD_BOT_TOKEN,
    applicationId: e.DISCORD_APPLICATION_ID!,
    channel: e.DISCORD_CHANNEL_ID!,
    apiUrl: e.DISCORD_API_URL,
    oncallRoleId: e.DISCORD_ONCALL_ROLE_ID,
    escalationRoleId: e.DISCORD_ESCALATION_ROLE_ID,
    adminRoleIds: e.DISCORD_ADMIN_ROLE_IDS,
    publicKey: e.DISCORD_PUBLIC_KEY,
    guildId: e.DISCORD_GUILD_ID,
  };
}
