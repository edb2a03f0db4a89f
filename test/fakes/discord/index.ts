/**
 * A loopback Discord for tests: the REST routes xmsg calls (`/api/v10`, so the real @discordjs/rest client talks to
 * it through `rest: { api: '{url}/api' }`), a WebSocket gateway the real discord.js Client connects to through
 * `GET /gateway/bot`, interactions delivered over that gateway or signed (Ed25519) to an HTTP endpoint, and fault
 * injection (429 with retry_after, 5xx, outage, gateway reconnects). Everything it was asked is recorded.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BodyTooLarge, readBody } from '../body.js';
import { DiscordGateway, type GatewayConnection } from './gateway.js';
import { type ButtonInput, buttonPayload, pingPayload, type SlashCommandInput, slashCommandPayload } from './payloads.js';
import { DiscordRest, type Fault, type FaultedCall, type RecordedCall, type RestRoute, send } from './rest.js';
import { type DiscordKeys, type InteractionDelivery, postSignedInteraction, type SignedDeliveryOptions } from './signing.js';
import { DiscordState, EPHEMERAL, type FakeMember, type FakeMessage, type FakeRole, type InteractionRecord, snowflake } from './state.js';

export type { GatewayConnection } from './gateway.js';
export type { ButtonInput, SlashCommandInput } from './payloads.js';
export type { Fault, FaultedCall, RecordedCall, RestRoute } from './rest.js';
export { type DiscordKeys, generateDiscordKeys, type InteractionDelivery, postSignedInteraction, signDiscordRequest } from './signing.js';
export { EPHEMERAL, type FakeMessage, type FakeThread, type InteractionRecord, type Pinged, snowflake, textMessage } from './state.js';

export interface FakeDiscordOptions {
  /** Bot token every authenticated call (and IDENTIFY/RESUME) must carry. */
  token?: string;
  applicationId?: string;
  guildId?: string;
  /** The text channel alerts go to. */
  channelId?: string;
  roles?: FakeRole[];
  members?: FakeMember[];
  /** HELLO's heartbeat_interval; Discord's is ~41 s, tests want it short. Default 1000. */
  heartbeatIntervalMs?: number;
  /** How long an interaction waits for its callback before its token dies (Discord: 3 s). */
  interactionDeadlineMs?: number;
}

/** What the user who triggered an interaction sees as its answer. */
export interface InteractionAnswer {
  content: string;
  flags: number;
  ephemeral: boolean;
  /** `reply` (callback type 4) or `deferred` (type 5 then an edit of @original). */
  how: 'reply' | 'deferred';
  /** Time from delivery to the callback, in ms. */
  callbackAfterMs: number;
}

export interface FakeDiscord {
  readonly url: string;
  /** What to pass as the REST base (`DISCORD_API_URL`, `rest: { api }`): `{url}/api`. */
  readonly apiUrl: string;
  readonly gatewayUrl: string;
  readonly token: string;
  readonly applicationId: string;
  readonly guildId: string;
  readonly channelId: string;
  /** Answered REST calls in arrival order (including 4xx answers); injected faults are in faultedCalls. */
  readonly calls: readonly RecordedCall[];
  readonly faultedCalls: readonly FaultedCall[];
  callsOf(route: RestRoute): RecordedCall[];
  /** Messages of a channel (default: the alert channel) or of a thread (its id = its starter message's id). */
  channelMessages(channelId?: string): FakeMessage[];
  threadMessages(rootMessageId: string): FakeMessage[];
  /** Registered application commands, `global` or by guild id. */
  registeredCommands(scope?: string): Array<Record<string, unknown>>;
  failNext(route: RestRoute, times: number, fault: Fault): void;
  /**
   * What a moderator does in the client. Deleting a message that started a thread leaves the thread (its messages
   * stay; the message itself answers Unknown Message); deleting a thread removes the thread channel (posting in it
   * answers Unknown Channel); archiving or locking one refuses posts in it (Thread is archived / locked).
   */
  deleteMessage(channelId: string, messageId: string): void;
  deleteThread(threadId: string): void;
  setThreadState(threadId: string, state: { archived?: boolean; locked?: boolean }): void;
  /** While down, every authenticated REST call answers 503. */
  setDown(down: boolean): void;

  /** Gateway connections in order, with what each client sent. */
  readonly connections: readonly GatewayConnection[];
  waitForGatewayReady(timeoutMs?: number): Promise<void>;
  reconnectClients(how: 'op7' | 'drop' | 'close4000' | 'invalidate'): void;
  dispatch(t: string, d: unknown): void;
  /** Delivers `/xmsg ...` over the gateway as INTERACTION_CREATE; returns its record (see `answer`). */
  slashCommand(input: SlashCommandInput): InteractionRecord;
  pressButton(input: ButtonInput): InteractionRecord;
  /** The same interactions, signed and POSTed to an HTTP interactions endpoint. */
  postSlashCommand(
    url: string,
    keys: DiscordKeys,
    input: SlashCommandInput,
    options?: SignedDeliveryOptions,
  ): Promise<InteractionDelivery & { interaction: InteractionRecord }>;
  postButton(
    url: string,
    keys: DiscordKeys,
    input: ButtonInput,
    options?: SignedDeliveryOptions,
  ): Promise<InteractionDelivery & { interaction: InteractionRecord }>;
  postPing(url: string, keys: DiscordKeys, options?: SignedDeliveryOptions): Promise<InteractionDelivery>;
  interaction(id: string): InteractionRecord | undefined;
  /** Waits until the interaction's answer is visible (a reply, or a deferral followed by an edit). */
  answer(id: string, timeoutMs?: number): Promise<InteractionAnswer>;

  /** Forgets messages, calls, faults, interactions and commands; keeps the guild, roles, gateway sessions and connection log. */
  reset(): void;
  stop(): Promise<void>;
}

export async function startFakeDiscord(options: FakeDiscordOptions = {}): Promise<FakeDiscord> {
  const fake = new LoopbackDiscord(options);
  await fake.listen();
  return fake;
}

class LoopbackDiscord implements FakeDiscord {
  readonly token: string;
  readonly applicationId: string;
  url = '';
  private readonly state: DiscordState;
  private readonly rest: DiscordRest;
  private readonly gateway: DiscordGateway;
  private readonly server = createServer((req, res) => {
    this.route(req, res).catch((err: unknown) => send(res, 500, { message: `fake discord: ${(err as Error).message}`, code: 0 }));
  });

  constructor(options: FakeDiscordOptions) {
    this.token = options.token ?? 'fake-bot-token';
    this.applicationId = options.applicationId ?? snowflake();
    this.state = new DiscordState(this.applicationId, {
      guildId: options.guildId,
      channelId: options.channelId,
      roles: options.roles,
      members: options.members,
    });
    this.rest = new DiscordRest(this.state, {
      token: this.token,
      gatewayUrl: () => this.gatewayUrl,
      interactionDeadlineMs: options.interactionDeadlineMs ?? 3000,
    });
    this.gateway = new DiscordGateway(this.state, {
      token: this.token,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 1000,
      url: () => this.gatewayUrl,
    });
    this.server.on('upgrade', (req, socket, head) => {
      const path = new URL(req.url ?? '/', 'http://fake').pathname;
      if (path === '/' || path === '/resume') this.gateway.handleUpgrade(req, socket, head);
      else socket.destroy();
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', resolve);
    });
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get apiUrl() {
    return `${this.url}/api`;
  }
  get gatewayUrl() {
    return this.url.replace(/^http/, 'ws');
  }
  get guildId() {
    return this.state.guildId;
  }
  get channelId() {
    return this.state.channelId;
  }
  get calls() {
    return [...this.rest.recorded];
  }
  get faultedCalls() {
    return [...this.rest.faulted];
  }
  get connections() {
    return [...this.gateway.connections];
  }

  callsOf(route: RestRoute) {
    return this.rest.recorded.filter((c) => c.route === route);
  }
  channelMessages(channelId = this.state.channelId) {
    return structuredClone(this.state.messages.get(channelId) ?? []);
  }
  threadMessages(rootMessageId: string) {
    return this.channelMessages(rootMessageId);
  }
  registeredCommands(scope = 'global') {
    return structuredClone(this.state.commands.get(scope) ?? []);
  }
  failNext(route: RestRoute, times: number, fault: Fault) {
    this.rest.failNext(route, times, fault);
  }
  deleteMessage(channelId: string, messageId: string) {
    const list = this.state.messages.get(channelId);
    const i = list?.findIndex((m) => m.id === messageId) ?? -1;
    if (!list || i < 0) throw new Error(`fake discord: no message ${messageId} in ${channelId} to delete`);
    list.splice(i, 1);
  }
  deleteThread(threadId: string) {
    if (!this.state.threads.delete(threadId)) throw new Error(`fake discord: no thread ${threadId} to delete`);
    this.state.messages.delete(threadId);
    for (const m of this.state.messages.get(this.state.channelId) ?? []) if (m.thread?.id === threadId) delete m.thread;
  }
  setThreadState(threadId: string, state: { archived?: boolean; locked?: boolean }) {
    const thread = this.state.threads.get(threadId);
    if (!thread) throw new Error(`fake discord: no thread ${threadId}`);
    Object.assign(thread.thread_metadata, state);
  }
  setDown(down: boolean) {
    this.rest.down = down;
  }
  waitForGatewayReady(timeoutMs?: number) {
    return this.gateway.waitForReady(timeoutMs);
  }
  reconnectClients(how: 'op7' | 'drop' | 'close4000' | 'invalidate') {
    this.gateway.reconnectClients(how);
  }
  dispatch(t: string, d: unknown) {
    this.gateway.dispatch(t, d);
  }

  private register(payload: Record<string, unknown>, via: 'gateway' | 'http'): InteractionRecord {
    const record: InteractionRecord = {
      id: payload.id as string,
      token: payload.token as string,
      applicationId: this.applicationId,
      via,
      createdAt: Date.now(),
      payload,
      followUps: [],
    };
    this.state.interactions.set(record.id, record);
    return record;
  }

  slashCommand(input: SlashCommandInput) {
    const record = this.register(slashCommandPayload(this.state, input), 'gateway');
    this.gateway.dispatch('INTERACTION_CREATE', record.payload);
    return record;
  }
  pressButton(input: ButtonInput) {
    const record = this.register(buttonPayload(this.state, input), 'gateway');
    this.gateway.dispatch('INTERACTION_CREATE', record.payload);
    return record;
  }
  async postSlashCommand(url: string, keys: DiscordKeys, input: SlashCommandInput, options?: SignedDeliveryOptions) {
    const interaction = this.register(slashCommandPayload(this.state, input), 'http');
    const delivery = await this.postAndRecord(url, keys, interaction, options);
    return { ...delivery, resend: delivery.resend, interaction };
  }
  async postButton(url: string, keys: DiscordKeys, input: ButtonInput, options?: SignedDeliveryOptions) {
    const interaction = this.register(buttonPayload(this.state, input), 'http');
    const delivery = await this.postAndRecord(url, keys, interaction, options);
    return { ...delivery, resend: delivery.resend, interaction };
  }
  postPing(url: string, keys: DiscordKeys, options?: SignedDeliveryOptions) {
    return postSignedInteraction(url, keys, pingPayload(this.state), options);
  }

  /** Over HTTP the callback is the response body itself: record it as Discord would. */
  private async postAndRecord(
    url: string,
    keys: DiscordKeys,
    interaction: InteractionRecord,
    options?: SignedDeliveryOptions,
  ): Promise<InteractionDelivery> {
    const delivery = await postSignedInteraction(url, keys, interaction.payload, options);
    const body = delivery.body as { type?: number; data?: Record<string, unknown> } | undefined;
    if (delivery.status === 200 && body && typeof body.type === 'number' && !interaction.callback) {
      const data = body.data ?? {};
      interaction.callback = { at: Date.now(), type: body.type, data };
      if (body.type === 4 || body.type === 5) {
        interaction.original = {
          content: body.type === 4 ? String(data.content ?? '') : '',
          flags: Number(data.flags ?? 0),
          embeds: [],
          components: [],
          allowedMentions: data.allowed_mentions,
          edits: [],
        };
      }
    }
    return delivery;
  }

  interaction(id: string) {
    const i = this.state.interactions.get(id);
    return i ? structuredClone(i) : undefined;
  }

  async answer(id: string, timeoutMs = 5000): Promise<InteractionAnswer> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.state.interactions.get(id);
      const cb = i?.callback;
      if (i && cb && i.original && (cb.type === 4 || i.original.edits.length)) {
        return {
          content: i.original.content,
          flags: i.original.flags,
          ephemeral: (i.original.flags & EPHEMERAL) !== 0,
          how: cb.type === 4 ? 'reply' : 'deferred',
          callbackAfterMs: cb.at - i.createdAt,
        };
      }
      if (Date.now() > deadline)
        throw new Error(`interaction ${id} was not answered within ${timeoutMs} ms (callback: ${JSON.stringify(cb)})`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  reset() {
    this.state.reset();
    this.rest.reset();
  }

  async stop() {
    await this.gateway.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    let raw: Buffer;
    try {
      raw = await readBody(req);
    } catch (err) {
      if (err instanceof BodyTooLarge) return send(res, 413, { message: 'Request entity too large', code: 40005 });
      throw err;
    }
    const prefix = '/api/v10';
    if (!url.pathname.startsWith(`${prefix}/`)) {
      send(res, 404, { message: '404: Not Found', code: 0 });
      return;
    }
    // @discordjs/rest percent-encodes `@original` (and `@me`) as Discord accepts either.
    await this.rest.handle(req, res, decodeURIComponent(url.pathname.slice(prefix.length)), url.searchParams, raw);
  }
}
