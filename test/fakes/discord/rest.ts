/**
 * The REST side of the loopback Discord: the `/api/v10` routes xmsg (through @discordjs/rest) calls, with Discord's
 * auth rule (`Authorization: Bot <token>`, except the interaction callback and webhook routes which the token in
 * the path authorises), its error bodies and codes, its rate-limit headers, and injected 429s and 5xx.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type DiscordState,
  EPHEMERAL,
  type FakeMessage,
  type FakeThread,
  type InteractionRecord,
  type RegisteredCommand,
  snowflake,
  textMessage,
} from './state.js';
import { computePings, formErrorBody, validateCommands, validateMessageBody } from './validate.js';

export type RestRoute =
  | 'gatewayBot'
  | 'gateway'
  | 'currentUser'
  | 'currentApplication'
  | 'getChannel'
  | 'createMessage'
  | 'getMessage'
  | 'editMessage'
  | 'startThread'
  | 'interactionCallback'
  | 'webhookMessage'
  | 'followUp'
  | 'commands';

/** How the next calls of a route fail. A 429 carries `retry_after` in seconds (fractions allowed), like Discord. */
export type Fault =
  | { status: 429; retryAfter: number; scope?: 'user' | 'shared' | 'global' }
  /** `apply`: Discord carried the request out, then the answer was lost (a 502/504 from the edge after the write). */
  | { status: 500 | 502 | 503 | 504; apply?: boolean }
  /** What Discord answers a good token during an incident of its own authentication. */
  | { status: 401 };

export interface RecordedCall {
  route: RestRoute;
  method: string;
  /** Path below `/api/v10`, e.g. `/channels/123/messages`. */
  path: string;
  query: Record<string, string>;
  body: unknown;
  authorization?: string;
  userAgent?: string;
  at: number;
  status: number;
}

export interface FaultedCall {
  route: RestRoute;
  method: string;
  path: string;
  body: unknown;
  at: number;
  fault: Fault | 'down';
}

interface Matched {
  route: RestRoute;
  params: string[];
  auth: boolean;
}

const ROUTES: Array<{ method: string; re: RegExp; route: RestRoute; auth: boolean }> = [
  { method: 'GET', re: /^\/gateway\/bot$/, route: 'gatewayBot', auth: true },
  { method: 'GET', re: /^\/gateway$/, route: 'gateway', auth: false },
  { method: 'GET', re: /^\/users\/@me$/, route: 'currentUser', auth: true },
  { method: 'GET', re: /^\/applications\/@me$/, route: 'currentApplication', auth: true },
  { method: 'GET', re: /^\/channels\/(\d+)$/, route: 'getChannel', auth: true },
  { method: 'POST', re: /^\/channels\/(\d+)\/messages$/, route: 'createMessage', auth: true },
  { method: 'GET', re: /^\/channels\/(\d+)\/messages\/(\d+)$/, route: 'getMessage', auth: true },
  { method: 'PATCH', re: /^\/channels\/(\d+)\/messages\/(\d+)$/, route: 'editMessage', auth: true },
  { method: 'POST', re: /^\/channels\/(\d+)\/messages\/(\d+)\/threads$/, route: 'startThread', auth: true },
  { method: 'POST', re: /^\/interactions\/(\d+)\/([^/]+)\/callback$/, route: 'interactionCallback', auth: false },
  { method: 'POST', re: /^\/webhooks\/(\d+)\/([^/]+)$/, route: 'followUp', auth: false },
  { method: 'GET', re: /^\/webhooks\/(\d+)\/([^/]+)\/messages\/(@original|\d+)$/, route: 'webhookMessage', auth: false },
  { method: 'PATCH', re: /^\/webhooks\/(\d+)\/([^/]+)\/messages\/(@original|\d+)$/, route: 'webhookMessage', auth: false },
  { method: 'PUT', re: /^\/applications\/(\d+)\/commands$/, route: 'commands', auth: true },
  { method: 'GET', re: /^\/applications\/(\d+)\/commands$/, route: 'commands', auth: true },
  { method: 'PUT', re: /^\/applications\/(\d+)\/guilds\/(\d+)\/commands$/, route: 'commands', auth: true },
  { method: 'GET', re: /^\/applications\/(\d+)\/guilds\/(\d+)\/commands$/, route: 'commands', auth: true },
];

class ApiError {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {}
}
const apiError = (status: number, code: number, message: string) => new ApiError(status, { message, code });

export interface RestOptions {
  token: string;
  gatewayUrl: () => string;
  /** How long an interaction may wait for its callback; Discord's is 3 s. */
  interactionDeadlineMs: number;
}

export class DiscordRest {
  readonly recorded: RecordedCall[] = [];
  readonly faulted: FaultedCall[] = [];
  private faults = new Map<RestRoute, Fault[]>();
  down = false;
  private bucketIds = new Map<RestRoute, string>();

  constructor(
    private readonly state: DiscordState,
    private readonly options: RestOptions,
  ) {}

  failNext(route: RestRoute, times: number, fault: Fault): void {
    const q = this.faults.get(route) ?? [];
    for (let i = 0; i < times; i++) q.push(fault);
    this.faults.set(route, q);
  }

  reset(): void {
    this.recorded.length = 0;
    this.faulted.length = 0;
    this.faults.clear();
    this.down = false;
  }

  async handle(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams, raw: Buffer): Promise<void> {
    const method = req.method ?? 'GET';
    const m = this.match(method, path);
    if ('status' in m) {
      send(res, m.status, { message: `${m.status}: ${m.status === 404 ? 'Not Found' : 'Method Not Allowed'}`, code: 0 });
      return;
    }
    let body: unknown;
    if (raw.length) {
      if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
        send(res, 400, { message: 'This fake only takes JSON bodies', code: 50109 });
        return;
      }
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        send(res, 400, { message: 'The request body contains invalid JSON.', code: 50109 });
        return;
      }
    }
    const at = Date.now();
    const authorization = req.headers.authorization;
    const record = (status: number) =>
      this.record({
        route: m.route,
        method,
        path,
        query: Object.fromEntries(query),
        body,
        authorization,
        userAgent: req.headers['user-agent'],
        at,
        status,
      });
    if (m.auth && authorization !== `Bot ${this.options.token}`) {
      record(401);
      send(res, 401, { message: '401: Unauthorized', code: 0 });
      return;
    }
    if (this.down) {
      this.faulted.push({ route: m.route, method, path, body, at, fault: 'down' });
      send(res, 503, { message: 'upstream connect error or disconnect/reset before headers', code: 0 });
      return;
    }
    const fault = this.faults.get(m.route)?.shift();
    if (fault) {
      this.faulted.push({ route: m.route, method, path, body, at, fault });
      if (fault.status === 429) this.sendRateLimited(res, m.route, fault);
      else if (fault.status === 401) send(res, 401, { message: '401: Unauthorized', code: 0 });
      else {
        if (fault.apply) {
          try {
            this.dispatch(m, method, query, body);
          } catch (err) {
            if (!(err instanceof ApiError)) throw err;
          }
        }
        send(res, fault.status, { message: `${fault.status}: Internal Server Error`, code: 0 });
      }
      return;
    }
    let status = 200;
    let out: unknown;
    try {
      const r = this.dispatch(m, method, query, body);
      status = r.status;
      out = r.body;
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      status = err.status;
      out = err.body;
    }
    record(status);
    if (status === 204) {
      res.writeHead(204, this.rateHeaders(m.route)).end();
      return;
    }
    send(res, status, out, this.rateHeaders(m.route));
  }

  private record(call: RecordedCall): void {
    this.recorded.push(call);
  }

  private match(method: string, path: string): Matched | { status: 404 | 405 } {
    let pathMatched = false;
    for (const r of ROUTES) {
      const found = r.re.exec(path);
      if (!found) continue;
      pathMatched = true;
      if (r.method === method) return { route: r.route, params: found.slice(1), auth: r.auth };
    }
    return { status: pathMatched ? 405 : 404 };
  }

  private bucket(route: RestRoute): string {
    let id = this.bucketIds.get(route);
    if (!id) {
      id = Buffer.from(route).toString('hex').slice(0, 32);
      this.bucketIds.set(route, id);
    }
    return id;
  }

  /** Headers Discord puts on every answer of a rate-limited route; generous limits so only injected 429s bite. */
  private rateHeaders(route: RestRoute): Record<string, string> {
    if (route === 'gateway' || route === 'interactionCallback') return {};
    return {
      'x-ratelimit-limit': '50',
      'x-ratelimit-remaining': '49',
      'x-ratelimit-reset': String((Date.now() + 1000) / 1000),
      'x-ratelimit-reset-after': '1.000',
      'x-ratelimit-bucket': this.bucket(route),
    };
  }

  /** A 429 exactly as Discord answers it: JSON body with retry_after, and the Retry-After / X-RateLimit-* headers. */
  private sendRateLimited(res: ServerResponse, route: RestRoute, fault: Extract<Fault, { status: 429 }>): void {
    const scope = fault.scope ?? 'user';
    const global = scope === 'global';
    const headers: Record<string, string> = {
      'retry-after': String(Math.ceil(fault.retryAfter)),
      'x-ratelimit-scope': scope,
    };
    if (global) headers['x-ratelimit-global'] = 'true';
    else {
      Object.assign(headers, {
        'x-ratelimit-limit': '5',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': String((Date.now() + fault.retryAfter * 1000) / 1000),
        'x-ratelimit-reset-after': fault.retryAfter.toFixed(3),
        'x-ratelimit-bucket': this.bucket(route),
      });
    }
    send(
      res,
      429,
      { message: 'You are being rate limited.', retry_after: fault.retryAfter, global, ...(global ? { code: 0 } : {}) },
      headers,
    );
  }

  private dispatch(m: Matched, method: string, query: URLSearchParams, body: unknown): { status: number; body?: unknown } {
    const s = this.state;
    const b = (body ?? {}) as Record<string, unknown>;
    switch (m.route) {
      case 'gatewayBot':
        return {
          status: 200,
          body: {
            url: this.options.gatewayUrl(),
            shards: 1,
            session_start_limit: { total: 1000, remaining: 999, reset_after: 14_400_000, max_concurrency: 1 },
          },
        };
      case 'gateway':
        return { status: 200, body: { url: this.options.gatewayUrl() } };
      case 'currentUser':
        return { status: 200, body: s.bot };
      case 'currentApplication':
        return {
          status: 200,
          body: {
            id: s.applicationId,
            name: 'xmsg',
            flags: 0,
            bot_public: false,
            bot_require_code_grant: false,
            verify_key: '',
            description: '',
            icon: null,
          },
        };
      case 'getChannel': {
        const [channelId] = m.params as [string];
        if (channelId === s.channelId) return { status: 200, body: (s.guildObject().channels as unknown[])[0] };
        const thread = s.threads.get(channelId);
        if (thread) return { status: 200, body: thread };
        throw apiError(404, 10003, 'Unknown Channel');
      }
      case 'createMessage':
        return { status: 200, body: this.createMessage(m.params[0]!, b) };
      case 'getMessage': {
        const msg = s.findMessage(m.params[0]!, m.params[1]!);
        if (!msg) throw apiError(404, 10008, 'Unknown Message');
        return { status: 200, body: apiMessage(msg) };
      }
      case 'editMessage':
        return { status: 200, body: this.editMessage(m.params[0]!, m.params[1]!, b) };
      case 'startThread':
        return { status: 201, body: this.startThread(m.params[0]!, m.params[1]!, b) };
      case 'interactionCallback':
        return this.interactionCallback(m.params[0]!, m.params[1]!, query, b);
      case 'followUp':
        return { status: 200, body: this.followUp(m.params[0]!, m.params[1]!, b) };
      case 'webhookMessage':
        return { status: 200, body: this.webhookMessage(method, m.params[0]!, m.params[1]!, m.params[2]!, b) };
      case 'commands':
        return this.commands(method, m.params[0]!, m.params[1], body);
    }
  }

  private createMessage(channelId: string, b: Record<string, unknown>): Record<string, unknown> {
    const s = this.state;
    if (!s.channelExists(channelId)) throw apiError(404, 10003, 'Unknown Channel');
    const thread = s.threads.get(channelId);
    if (thread?.thread_metadata.archived) throw apiError(400, 50083, 'Thread is archived');
    if (thread?.thread_metadata.locked) throw apiError(403, 160005, 'Thread is locked');
    const errors = validateMessageBody(b, { creating: true });
    if (errors._) throw apiError(400, 50006, 'Cannot send an empty message');
    if (Object.keys(errors).length) throw new ApiError(400, formErrorBody(errors));
    // enforce_nonce: a second create with the same nonce by the same author within minutes returns the first message.
    const nonce = b.nonce as string | number | undefined;
    if (nonce !== undefined && b.enforce_nonce === true) {
      const earlier = s.nonces.get(`${channelId}:${nonce}`);
      if (earlier) return apiMessage(earlier);
    }
    const content = typeof b.content === 'string' ? b.content : '';
    const pinged = computePings(content, b.allowed_mentions);
    const msg = textMessage({
      id: snowflake(),
      channel_id: channelId,
      guild_id: s.guildId,
      author: s.bot,
      content,
      embeds: (b.embeds as FakeMessage['embeds']) ?? [],
      components: (b.components as FakeMessage['components']) ?? [],
      mention_roles: pinged.roles,
      mention_everyone: pinged.everyone,
      ...(nonce !== undefined ? { nonce } : {}),
      pinged,
      allowedMentions: b.allowed_mentions,
    });
    s.messages.get(channelId)!.push(msg);
    if (thread) {
      thread.message_count++;
      thread.total_message_sent++;
    }
    if (nonce !== undefined && b.enforce_nonce === true) s.nonces.set(`${channelId}:${nonce}`, msg);
    return apiMessage(msg);
  }

  private editMessage(channelId: string, messageId: string, b: Record<string, unknown>): Record<string, unknown> {
    const s = this.state;
    if (!s.channelExists(channelId)) throw apiError(404, 10003, 'Unknown Channel');
    const msg = s.findMessage(channelId, messageId);
    if (!msg) throw apiError(404, 10008, 'Unknown Message');
    const errors = validateMessageBody(b, { creating: false });
    if (Object.keys(errors).length) throw new ApiError(400, formErrorBody(errors));
    if (b.content !== undefined) msg.content = (b.content as string | null) ?? '';
    if (b.embeds !== undefined) msg.embeds = (b.embeds as FakeMessage['embeds'] | null) ?? [];
    if (b.components !== undefined) msg.components = (b.components as FakeMessage['components'] | null) ?? [];
    msg.edited_timestamp = new Date().toISOString();
    msg.edits.push({ at: Date.now(), body: structuredClone(b) });
    return apiMessage(msg);
  }

  private startThread(channelId: string, messageId: string, b: Record<string, unknown>): FakeThread {
    const s = this.state;
    if (channelId !== s.channelId) throw apiError(404, 10003, 'Unknown Channel');
    const msg = s.findMessage(channelId, messageId);
    if (!msg) throw apiError(404, 10008, 'Unknown Message');
    if (msg.thread) throw apiError(400, 160004, 'A thread has already been created for this message');
    const errors: Record<string, string> = {};
    if (typeof b.name !== 'string' || b.name.length < 1 || b.name.length > 100) errors.name = 'Must be between 1 and 100 in length.';
    if (b.auto_archive_duration !== undefined && ![60, 1440, 4320, 10080].includes(b.auto_archive_duration as number)) {
      errors.auto_archive_duration = 'Value must be one of (60, 1440, 4320, 10080).';
    }
    if (Object.keys(errors).length) throw new ApiError(400, formErrorBody(errors));
    const now = new Date().toISOString();
    const thread: FakeThread = {
      id: messageId, // a thread started from a message has the message's id
      type: 11,
      guild_id: s.guildId,
      parent_id: channelId,
      name: b.name as string,
      owner_id: s.bot.id,
      message_count: 0,
      member_count: 1,
      rate_limit_per_user: 0,
      flags: 0,
      thread_metadata: {
        archived: false,
        auto_archive_duration: (b.auto_archive_duration as number) ?? 4320,
        archive_timestamp: now,
        locked: false,
        create_timestamp: now,
      },
      total_message_sent: 0,
    };
    msg.thread = thread;
    s.threads.set(thread.id, thread);
    s.messages.set(thread.id, []);
    return thread;
  }

  private interaction(id: string | undefined, token: string, applicationId?: string): InteractionRecord | undefined {
    for (const i of this.state.interactions.values()) {
      if (i.token === token && (id === undefined || i.id === id) && (applicationId === undefined || i.applicationId === applicationId))
        return i;
    }
    return undefined;
  }

  private interactionCallback(
    id: string,
    token: string,
    query: URLSearchParams,
    b: Record<string, unknown>,
  ): { status: number; body?: unknown } {
    const i = this.interaction(id, token);
    if (!i) throw apiError(404, 10062, 'Unknown interaction');
    if (i.callback) throw apiError(400, 40060, 'Interaction has already been acknowledged.');
    if (Date.now() - i.createdAt > this.options.interactionDeadlineMs) throw apiError(404, 10062, 'Unknown interaction');
    const type = b.type as number;
    const isComponent = i.payload.type === 3;
    const allowed = isComponent ? [4, 5, 6, 7, 9] : [4, 5, 9];
    if (!allowed.includes(type)) throw new ApiError(400, formErrorBody({ type: `Value must be one of (${allowed.join(', ')}).` }));
    const data = (b.data ?? {}) as Record<string, unknown>;
    const errors = validateMessageBody(data, { creating: false });
    if (Object.keys(errors).length)
      throw new ApiError(400, formErrorBody(Object.fromEntries(Object.entries(errors).map(([k, v]) => [`data.${k}`, v]))));
    if (
      type === 4 &&
      !data.content &&
      !(data.embeds as unknown[] | undefined)?.length &&
      !(data.components as unknown[] | undefined)?.length
    ) {
      throw apiError(400, 50006, 'Cannot send an empty message');
    }
    i.callback = { at: Date.now(), type, data: structuredClone(data) };
    if (type === 4 || type === 5) {
      i.original = {
        content: type === 4 ? String(data.content ?? '') : '',
        flags: Number(data.flags ?? 0),
        embeds: (data.embeds as unknown[]) ?? [],
        components: (data.components as unknown[]) ?? [],
        allowedMentions: data.allowed_mentions,
        edits: [],
      };
    }
    if (query.get('with_response') === 'true') {
      return {
        status: 200,
        body: {
          interaction: {
            id: i.id,
            type: i.payload.type,
            activity_instance_id: null,
            response_message_id: i.id,
            response_message_loading: type === 5,
            response_message_ephemeral: ((i.original?.flags ?? 0) & EPHEMERAL) !== 0,
          },
          resource: { type, ...(i.original ? { message: this.originalMessage(i) } : {}) },
        },
      };
    }
    return { status: 204 };
  }

  private originalMessage(i: InteractionRecord): Record<string, unknown> {
    const o = i.original!;
    return {
      id: i.id,
      type: i.payload.type === 2 ? 20 : 0,
      channel_id: this.state.channelId,
      author: this.state.bot,
      content: o.content,
      embeds: o.embeds,
      components: o.components,
      flags: o.flags,
      mentions: [],
      mention_roles: [],
      mention_everyone: false,
      attachments: [],
      pinned: false,
      tts: false,
      timestamp: new Date(i.callback!.at).toISOString(),
      edited_timestamp: o.edits.length ? new Date(o.edits.at(-1)!.at).toISOString() : null,
      webhook_id: i.applicationId,
      application_id: i.applicationId,
    };
  }

  private liveInteraction(applicationId: string, token: string): InteractionRecord {
    const i = this.interaction(undefined, token, applicationId);
    // Interaction tokens last 15 minutes; before the first callback there is nothing to edit or follow.
    if (!i?.callback || Date.now() - i.createdAt > 15 * 60_000) throw apiError(404, 10015, 'Unknown Webhook');
    return i;
  }

  private webhookMessage(
    method: string,
    applicationId: string,
    token: string,
    messageId: string,
    b: Record<string, unknown>,
  ): Record<string, unknown> {
    const i = this.liveInteraction(applicationId, token);
    // Only the original response is kept editable here; xmsg never edits follow-ups.
    if (messageId !== '@original' && messageId !== i.id) throw apiError(404, 10008, 'Unknown Message');
    if (!i.original) throw apiError(404, 10008, 'Unknown Message');
    if (method === 'PATCH') {
      const errors = validateMessageBody(b, { creating: false });
      if (Object.keys(errors).length) throw new ApiError(400, formErrorBody(errors));
      if (b.content !== undefined) i.original.content = String(b.content ?? '');
      if (b.embeds !== undefined) i.original.embeds = (b.embeds as unknown[]) ?? [];
      if (b.components !== undefined) i.original.components = (b.components as unknown[]) ?? [];
      if (b.allowed_mentions !== undefined) i.original.allowedMentions = b.allowed_mentions;
      i.original.edits.push({ at: Date.now(), body: structuredClone(b) });
    }
    return this.originalMessage(i);
  }

  private followUp(applicationId: string, token: string, b: Record<string, unknown>): Record<string, unknown> {
    const i = this.liveInteraction(applicationId, token);
    const errors = validateMessageBody(b, { creating: true });
    if (errors._) throw apiError(400, 50006, 'Cannot send an empty message');
    if (Object.keys(errors).length) throw new ApiError(400, formErrorBody(errors));
    const f = { id: snowflake(), at: Date.now(), content: String(b.content ?? ''), flags: Number(b.flags ?? 0) };
    i.followUps.push(f);
    return {
      id: f.id,
      channel_id: this.state.channelId,
      author: this.state.bot,
      content: f.content,
      flags: f.flags,
      embeds: [],
      components: [],
      webhook_id: applicationId,
    };
  }

  private commands(method: string, applicationId: string, guildId: string | undefined, body: unknown): { status: number; body: unknown } {
    const s = this.state;
    if (applicationId !== s.applicationId) throw apiError(403, 50001, 'Missing Access');
    if (guildId !== undefined && guildId !== s.guildId) throw apiError(403, 50001, 'Missing Access');
    const scope = guildId ?? 'global';
    if (method === 'GET') return { status: 200, body: s.commands.get(scope) ?? [] };
    const errors = validateCommands(body);
    if (Object.keys(errors).length) throw new ApiError(400, formErrorBody(errors));
    const previous = s.commands.get(scope) ?? [];
    const registered: RegisteredCommand[] = (body as Array<Record<string, unknown>>).map((c) => {
      const same = previous.find((p) => p.name === c.name);
      return {
        ...c,
        id: same?.id ?? snowflake(),
        application_id: applicationId,
        ...(guildId ? { guild_id: guildId } : {}),
        version: snowflake(),
        type: (c.type as number) ?? 1,
        name: c.name as string,
        description: (c.description as string) ?? '',
        default_member_permissions: (c.default_member_permissions as string) ?? null,
        // Discord's defaults: installable to servers only; usable everywhere (null) unless contexts say otherwise.
        integration_types: (c.integration_types as number[]) ?? [0],
        contexts: (c.contexts as number[] | null) ?? null,
        nsfw: false,
      };
    });
    s.commands.set(scope, registered);
    return { status: 200, body: registered };
  }
}

/** The message object Discord returns (without the fake-only fields). */
export function apiMessage(m: FakeMessage): Record<string, unknown> {
  const { thread, pinged: _p, allowedMentions: _a, edits: _e, ...rest } = m;
  return { ...rest, ...(thread ? { thread } : {}) };
}

export function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), via: '1.1 google', ...headers });
  res.end(text);
}
