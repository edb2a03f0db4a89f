import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { z } from 'zod';
import { type CommandDeps, type CommandReply, type HealthReport, ROOT_BUTTONS, runButton, runCommand } from '../../../commands/handlers.js';
import type { Actor } from '../../alerts/chat-port.js';
import type { FailsafeEndpointState } from '../../alerts/failsafe.js';
import type { ParkedAlert } from '../../alerts/notifier.js';
import type { Silence } from '../../alerts/silences.js';
import { type HttpServer, sendJson } from '../../http/server.js';
import { DEPLOYMENT_ID } from '../../store/deployment.js';
import { connectRedis, type RedisTarget } from '../../store/redis.js';
import { withFailureReply } from '../answer.js';
import { ConsoleAccess } from './access.js';
import type { ConsoleAdapter, ConsoleNotice, ConsoleThread } from './adapter.js';
import { CONSOLE_PAGE, signInPage } from './page.js';

/** Console requests are a name, a command line or a button: a few hundred bytes. */
const MAX_BODY_BYTES = 8 * 1024;
const MAX_SSE_CLIENTS = 64;
const HEALTH_EVERY_MS = 2000;
const SHOWN_ALERTS = 200;
const SHOWN_NOTICES = 20;

// Names become the actor in audit trails and thread replies; control characters would garble them.
const name = z
  .string({
    error: (issue) => (issue.input === undefined ? 'name is required: who you are, shown in the audit trail' : 'name must be a string'),
  })
  .trim()
  .min(1, 'name is required: who you are, shown in the audit trail')
  .max(64, 'name is longer than 64 characters')
  .refine((s) => !/[\p{Cc}\p{Cf}]/u.test(s), 'name must not contain control characters');

const commandBody = z.strictObject({
  name,
  text: z
    .string({
      error: (issue) =>
        issue.input === undefined ? 'text is required: the /xmsg command line' : 'text must be a string: the /xmsg command line',
    })
    .max(2000, 'text is longer than 2000 characters'),
});

const buttonBody = z.strictObject({
  name,
  alertId: z
    .string({ error: 'alertId must be a string: the alert id, e.g. XM-42' })
    .regex(/^XM-\d{1,12}$/, 'alertId must be an alert id like XM-42'),
  button: z.enum(ROOT_BUTTONS, { error: `button must be one of ${ROOT_BUTTONS.join(', ')}` }),
  // The deployment the page showed the alert under (docs/ARCHITECTURE.md §3); absent from pages older than it.
  deployment: z
    .string({ error: 'deployment must be a string: the deployment id the alert was shown under' })
    .regex(DEPLOYMENT_ID, 'deployment must be a deployment id like 3f9c0a1b2c4d')
    .optional(),
});

export interface ChainView {
  chainId: number;
  healthy: boolean;
  reason?: string;
  latest?: string;
  safe?: string;
  finalized?: string;
  cursor?: string;
  /** Blocks between the chain's latest head and what xmsg has processed. */
  lag?: string;
  /** Blocks between the latest head and the cross-safe head. */
  unsafeBlocks?: string;
}

export interface ConsoleState {
  platform: 'console';
  now: number;
  chains: ChainView[];
  alerts: ConsoleThread[];
  /** Silences in effect and scheduled ones, by start. */
  silences: Silence[];
  /** Channel notices (not in an alert's thread), newest first. */
  notices: ConsoleNotice[];
  /** Alerts whose chat deliveries are parked on some platform, oldest first. */
  parked: ParkedAlert[];
  /** The interop failsafe of each admin endpoint, when it is configured (shown in the header). */
  failsafe?: FailsafeEndpointState[];
}

/**
 * The local web console on xmsg's HTTP server: the page at `/`, its state as JSON, live updates over Server-Sent
 * Events, and typed `/xmsg` commands and alert buttons that go through the shared command handlers. Changes made
 * on any replica reach every replica's browsers through Redis pub/sub.
 *
 * Whoever is let in acts as the operator named in the page. Without XMSG_CONSOLE_TOKEN it is a local tool: served
 * only to loopback sockets, addressed by a loopback host name (blocks DNS rebinding); with it, to anyone signed in
 * with the token, from anywhere (`./access.ts`). Cross-site posts are refused (Origin check, JSON only).
 */
export class ConsoleServer {
  private readonly clients = new Set<ServerResponse>();
  private subscriber?: Redis;
  private healthTimer?: NodeJS.Timeout;

  private readonly access: ConsoleAccess;

  constructor(
    private readonly adapter: ConsoleAdapter,
    private readonly deps: CommandDeps,
    private readonly redisTarget: RedisTarget,
    private readonly log: Logger,
    /** XMSG_CONSOLE_TOKEN: when set, visitors sign in with it and may come from anywhere. */
    token?: string,
  ) {
    this.access = new ConsoleAccess(token);
  }

  mount(http: HttpServer): void {
    http.route('GET', '/', (req, res) => {
      const access = this.access.check(req);
      if (access === 'sign-in') {
        sendSignIn(res, 200);
        return;
      }
      if (!this.allowed(req, res)) return;
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        // Everything the page needs is inline; nothing may be loaded from elsewhere.
        'content-security-policy':
          "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
      });
      res.end(CONSOLE_PAGE);
    });

    // The sign-in form posts here (a plain form, so it works before any script runs); only when a token is set.
    http.route('POST', '/console/login', (req, res, _params, raw) => {
      if (!this.access.signingIn) {
        sendJson(res, 404, { error: 'not found: no XMSG_CONSOLE_TOKEN is set, so there is nothing to sign in to' });
        return;
      }
      if (!sameOrigin(req, res)) return;
      const session = this.access.signIn(new URLSearchParams(raw.toString('utf8')).get('token') ?? '');
      if (!session) {
        sendSignIn(res, 401, 'That is not the console token.');
        return;
      }
      res.writeHead(303, { location: '/', 'set-cookie': session.cookie(secureRequest(req)), 'cache-control': 'no-store' });
      res.end();
    });

    http.route('GET', '/console/state', async (req, res) => {
      if (!this.allowed(req, res)) return;
      sendJson(res, 200, await this.state());
    });

    http.route('GET', '/console/events', (req, res) => {
      if (!this.allowed(req, res)) return;
      if (this.clients.size >= MAX_SSE_CLIENTS) {
        sendJson(res, 503, { error: `too many open consoles (${MAX_SSE_CLIENTS}); close some tabs` });
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
      res.write('retry: 2000\n\n');
      this.clients.add(res);
      res.on('close', () => this.clients.delete(res));
      void this.sendHealth(res);
    });

    http.route('POST', '/console/command', async (req, res, _params, raw) => {
      const body = this.parse(req, res, raw, commandBody);
      if (!body) return;
      const line = body.text
        .trim()
        .replace(/^\/xmsg(?=\s|$)/i, '')
        .trim();
      sendJson(res, 200, await this.guard(runCommand(line, actor(body.name), this.deps)));
    });

    http.route('POST', '/console/button', async (req, res, _params, raw) => {
      const body = this.parse(req, res, raw, buttonBody);
      if (!body) return;
      sendJson(res, 200, await this.guard(runButton(body.button, body.alertId, actor(body.name), this.deps, body.deployment)));
    });
  }

  /** Subscribes to console changes from every replica and starts the heads ticker for open pages. */
  async start(): Promise<void> {
    const sub = connectRedis(this.redisTarget, { maxRetriesPerRequest: null });
    sub.on('error', (err) => this.log.warn({ err: err.message }, 'redis (console pub/sub) connection error'));
    sub.on('message', (_channel: string, alertId: string) => this.broadcast('alert', { alertId }));
    await sub.subscribe(this.adapter.keys.changes);
    this.subscriber = sub;
    this.healthTimer = setInterval(() => {
      if (this.clients.size) void this.sendHealth();
    }, HEALTH_EVERY_MS);
    this.healthTimer.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.healthTimer);
    for (const res of this.clients) res.end();
    this.clients.clear();
    await this.subscriber?.quit().catch(() => undefined);
  }

  async state(): Promise<ConsoleState> {
    const now = Date.now();
    const [health, alerts, silences, notices] = await Promise.all([
      this.deps.health(),
      this.adapter.threads(SHOWN_ALERTS),
      this.deps.alerts.store.unendedSilences(now),
      this.adapter.notices(SHOWN_NOTICES),
    ]);
    const chains = chainViews(health);
    const failsafe = health.failsafe ? { failsafe: health.failsafe } : {};
    return { platform: 'console', now, chains, alerts: alerts.sort(attentionFirst), silences, notices, parked: health.parked, ...failsafe };
  }

  private async sendHealth(only?: ServerResponse): Promise<void> {
    try {
      const health = await this.deps.health();
      const data = { chains: chainViews(health), failsafe: health.failsafe };
      if (only) write(only, 'health', data);
      else this.broadcast('health', data);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'console: could not read chain health');
    }
  }

  private broadcast(event: string, data: unknown): void {
    for (const res of this.clients) write(res, event, data);
  }

  private guard(reply: Promise<CommandReply>): Promise<CommandReply> {
    return withFailureReply(reply, this.log, 'console command failed');
  }

  /** Whether the request may use the console; if not, it has been answered (403, or 401 when it should sign in). */
  private allowed(req: IncomingMessage, res: ServerResponse): boolean {
    const access = this.access.check(req);
    if (access === 'ok') return true;
    if (access === 'sign-in') sendJson(res, 401, { error: 'sign in to the xmsg console first (open / and enter XMSG_CONSOLE_TOKEN)' });
    else sendJson(res, 403, { error: ACCESS_REFUSALS[access] });
    return false;
  }

  private parse<T>(req: IncomingMessage, res: ServerResponse, raw: Buffer, schema: z.ZodType<T>): T | undefined {
    if (!this.allowed(req, res)) return undefined;
    if (!sameOrigin(req, res)) return undefined;
    if (raw.length > MAX_BODY_BYTES) {
      sendJson(res, 413, { error: `body larger than ${MAX_BODY_BYTES} bytes` });
      return undefined;
    }
    if (!/^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? '')) {
      sendJson(res, 415, { error: 'send JSON with content-type: application/json' });
      return undefined;
    }
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch {
      sendJson(res, 400, { error: 'the body is not valid JSON' });
      return undefined;
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      sendJson(res, 400, { error: parsed.error.issues.map(issueText).join('; ') });
      return undefined;
    }
    return parsed.data;
  }
}

const ACCESS_REFUSALS = {
  remote:
    'the xmsg console is served only to this machine (loopback connections); reach it through an SSH tunnel (ssh -L 3000:localhost:3000 host), or set XMSG_CONSOLE_TOKEN to sign in from elsewhere',
  'not-localhost': 'the xmsg console answers only on localhost, 127.0.0.1 or [::1] (use an SSH tunnel to reach it remotely)',
} as const;

/** A post from a page of another origin (CSRF) is refused; a request without Origin is not a browser's cross-site one. */
function sameOrigin(req: IncomingMessage, res: ServerResponse): boolean {
  const origin = req.headers.origin;
  // https: behind a TLS-terminating proxy, the browser's origin is https while xmsg itself serves plain HTTP.
  if (origin === undefined || origin === `http://${req.headers.host}` || origin === `https://${req.headers.host}`) return true;
  sendJson(res, 403, { error: `cross-site request from ${origin} refused` });
  return false;
}

/** The browser reached xmsg over HTTPS (a TLS-terminating proxy says so): the session cookie is then marked Secure. */
function secureRequest(req: IncomingMessage): boolean {
  return req.headers['x-forwarded-proto'] === 'https' || (req.headers.origin ?? '').startsWith('https://');
}

function sendSignIn(res: ServerResponse, status: number, problem?: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  });
  res.end(signInPage(problem));
}

function issueText(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown field(s): ${issue.keys.join(', ')}`;
  if (issue.code === 'invalid_type' && issue.path.length === 0) return 'the body must be a JSON object';
  return issue.message;
}

/** A console user: the name typed into the page. The console is a local operator tool, so they may act. */
function actor(name: string): Actor {
  return { platform: 'console', userId: name, name, canAct: true };
}

function write(res: ServerResponse, event: string, data: unknown): void {
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

function chainViews(h: HealthReport): ChainView[] {
  return h.chains.map((c) => ({
    chainId: c.chainId,
    healthy: c.healthy,
    ...(c.reason ? { reason: c.reason } : {}),
    latest: c.latest,
    safe: c.safe,
    finalized: c.finalized,
    cursor: c.cursor,
    lag: c.latest !== undefined && c.cursor !== undefined ? String(BigInt(c.latest) - BigInt(c.cursor)) : undefined,
    unsafeBlocks: c.latest !== undefined && c.safe !== undefined ? String(BigInt(c.latest) - BigInt(c.safe)) : undefined,
  }));
}

const STATE_ORDER = { open: 0, acknowledged: 1, resolved: 2 } as const;

/** Open alerts first, then acknowledged, then resolved; newest first within each. */
function attentionFirst(a: ConsoleThread, b: ConsoleThread): number {
  return STATE_ORDER[a.alert.state] - STATE_ORDER[b.alert.state] || b.alert.createdAt - a.alert.createdAt;
}
