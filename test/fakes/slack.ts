/**
 * A loopback Slack for tests: the Web API methods xmsg calls (so the real @slack/web-api WebClient and Bolt talk to
 * it through `slackApiUrl`), response_url endpoints, fault injection, and signed command and button deliveries to an
 * app's request URL, exactly as Slack sends them.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BodyTooLarge, readBody } from './body.js';
import { type Args, mediaType, type ParsedCall, parseApiCall, sendJson, sendText } from './slack/http.js';

export type { Args } from './slack/http.js';

import { type BlockActionInput, blockActionPayload, type SlashCommandInput, slashCommandForm } from './slack/payloads.js';
import { postSignedForm, type SlackDelivery } from './slack/signing.js';
import { type ApiResult, methodFor } from './slack/web-api.js';
import { type FakeMessage, type FakeUser, Workspace } from './slack/workspace.js';

export { type BlockJson, validateBlocks } from './slack/blocks.js';
export type { BlockActionInput, SlashCommandInput } from './slack/payloads.js';
export { postSignedForm, type SignedHeaders, type SigningOverrides, type SlackDelivery, signSlackRequest } from './slack/signing.js';
export type { ApiResult } from './slack/web-api.js';
export { type FakeMessage, type FakeUser, IDENTITY, type MessageContent, type MessageMetadata } from './slack/workspace.js';

export interface FakeSlackOptions {
  /** The bot token every Web API call must carry. Default `xoxb-fake-token`. */
  token?: string;
  /** User group id → member user ids, for usergroups.users.list. */
  usergroups?: Record<string, string[]>;
  /** Users known to users.info besides group members and whoever sends a command or presses a button. */
  users?: Record<string, FakeUser>;
}

/**
 * How the next calls of a method fail. `error` answers HTTP 200 `{ok:false}` as Slack does for platform errors.
 * `lostAnswer`: the call is carried out (and recorded in `calls` too), then the connection is cut before the
 * answer, as when a timeout or a dropped connection hides from the caller a post Slack made.
 * `hang`: the call is taken and held unanswered, the connection open, changing nothing, as behind a hung proxy or a
 * black-holed network: only the caller's own timeout ends its wait, or `releaseHung`, `reset` or `stop`.
 */
export type Fault = { status: 429; retryAfter: number } | { status: 500 | 503 } | { error: string } | { lostAnswer: true } | { hang: true };

export interface RecordedCall {
  method: string;
  /** Without the token; JSON-valued arguments (blocks, attachments, metadata) parsed back to objects. */
  args: Args;
  at: number;
  response: ApiResult;
}

export interface FaultedCall {
  method: string;
  args: Args;
  at: number;
  /** `down` when the call arrived during setDown(true). */
  fault: Fault | 'down';
}

export interface ResponseUrlPost {
  at: number;
  body: Record<string, unknown>;
}

export interface FakeSlack {
  /** `http://127.0.0.1:{port}` */
  readonly url: string;
  /** What to pass as `slackApiUrl` (`{url}/api/`). */
  readonly apiUrl: string;
  readonly token: string;
  /** Every answered Web API call in arrival order, including ones answered `ok:false`; injected faults excluded but `lostAnswer`. */
  readonly calls: readonly RecordedCall[];
  readonly faultedCalls: readonly FaultedCall[];
  callsOf(method: string): RecordedCall[];
  /** Root messages of a channel in posting order (snapshots). */
  channelMessages(channel: string): FakeMessage[];
  /** Replies in a root's thread in posting order (snapshots). */
  threadReplies(channel: string, ts: string): FakeMessage[];
  /** The next `times` calls of `method` fail with `fault` and change nothing; queued after earlier faults. */
  failNext(method: string, times: number, fault: Fault): void;
  /**
   * Every call of `method` whose arguments `match` fails with `fault` and changes nothing, until the returned function
   * is called (e.g. one thread's replies answering `thread_not_found` while everything else works).
   */
  failWhile(method: string, match: (args: Args) => boolean, fault: Exclude<Fault, { lostAnswer: true }>): () => void;
  /** A person deletes a message in the client, as chat.delete does: a root with replies leaves a tombstone. */
  deleteMessage(channel: string, ts: string): void;
  /** While down, every Web API call answers HTTP 503. */
  setDown(down: boolean): void;
  /** Answers every call a `hang` fault holds (whose caller still waits) HTTP 503, as Slack's edge does. */
  releaseHung(): void;
  newResponseUrl(): string;
  /** POSTs to a response_url, by its id or its full URL, in arrival order. */
  responses(id: string): ResponseUrlPost[];
  responsesFor(url: string): ResponseUrlPost[];
  /** Forgets calls, messages, responses, faults and the outage, and cuts held calls; keeps the seed users and groups. */
  reset(): void;
  stop(): Promise<void>;
}

/** Which fake a delivery's response_url and stored message come from; default: the latest started, still running. */
export interface Via {
  slack?: FakeSlack;
}

export type Delivered = SlackDelivery & { responseUrl: string };

const RESPOND_PATH = /^\/respond\/([\w-]+)$/;

/** Running fakes, oldest first: the deliveries below default to the last one. */
const running: LoopbackSlack[] = [];

export async function startFakeSlack(options: FakeSlackOptions = {}): Promise<FakeSlack> {
  const fake = new LoopbackSlack(options);
  await fake.listen();
  running.push(fake);
  return fake;
}

/** Delivers a signed slash command (`/xmsg` unless told) to an app's request URL, as Slack does, with a fresh response_url. */
export async function sendSlashCommand(targetUrl: string, signingSecret: string, input: SlashCommandInput & Via): Promise<Delivered> {
  const fake = fakeFor(input.slack);
  const responseUrl = fake.newResponseUrl();
  const delivery = await postSignedForm(targetUrl, signingSecret, slashCommandForm(fake.ws, input, responseUrl), input);
  return { ...delivery, resend: delivery.resend, responseUrl };
}

/** Delivers a signed `block_actions` button press on a message, as Slack does, with a fresh response_url. */
export async function sendBlockAction(targetUrl: string, signingSecret: string, input: BlockActionInput & Via): Promise<Delivered> {
  const fake = fakeFor(input.slack);
  const responseUrl = fake.newResponseUrl();
  const payload = JSON.stringify(blockActionPayload(fake.ws, input, responseUrl));
  const delivery = await postSignedForm(targetUrl, signingSecret, { payload }, input);
  return { ...delivery, resend: delivery.resend, responseUrl };
}

function fakeFor(slack: FakeSlack | undefined): LoopbackSlack {
  const fake = slack ?? running.at(-1);
  if (!(fake instanceof LoopbackSlack)) throw new Error('no fake Slack is running: call startFakeSlack() first or pass `slack`');
  return fake;
}

class LoopbackSlack implements FakeSlack {
  readonly token: string;
  url = '';
  private readonly server = createServer((req, res) => {
    this.route(req, res).catch((err: unknown) => sendText(res, 500, `fake slack: ${(err as Error).message}`));
  });
  /** Read by the deliveries above for users and stored messages. */
  readonly ws: Workspace;
  private recorded: RecordedCall[] = [];
  private faulted: FaultedCall[] = [];
  private faults = new Map<string, Fault[]>();
  private standing: Array<{ method: string; match: (args: Args) => boolean; fault: Fault }> = [];
  private down = false;
  /** The answers of calls a `hang` fault holds, until their caller gives up or they are released. */
  private readonly hung = new Set<ServerResponse>();
  private responseLog = new Map<string, ResponseUrlPost[]>();

  constructor(options: FakeSlackOptions) {
    this.token = options.token ?? 'xoxb-fake-token';
    this.ws = new Workspace({ usergroups: options.usergroups ?? {}, users: options.users ?? {} });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', resolve);
    });
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get apiUrl(): string {
    return `${this.url}/api/`;
  }

  get calls(): readonly RecordedCall[] {
    return [...this.recorded];
  }

  get faultedCalls(): readonly FaultedCall[] {
    return [...this.faulted];
  }

  callsOf(method: string): RecordedCall[] {
    return this.recorded.filter((c) => c.method === method);
  }

  channelMessages(channel: string): FakeMessage[] {
    return structuredClone(this.ws.roots(channel));
  }

  threadReplies(channel: string, ts: string): FakeMessage[] {
    return structuredClone(this.ws.replies(channel, ts));
  }

  failNext(method: string, times: number, fault: Fault): void {
    const queue = this.faults.get(method) ?? [];
    for (let i = 0; i < times; i++) queue.push(fault);
    this.faults.set(method, queue);
  }

  failWhile(method: string, match: (args: Args) => boolean, fault: Exclude<Fault, { lostAnswer: true }>): () => void {
    const entry = { method, match, fault };
    this.standing.push(entry);
    return () => {
      this.standing = this.standing.filter((e) => e !== entry);
    };
  }

  deleteMessage(channel: string, ts: string): void {
    if (!this.ws.delete(channel, ts)) throw new Error(`fake slack: no message ${ts} in ${channel} to delete`);
  }

  setDown(down: boolean): void {
    this.down = down;
  }

  releaseHung(): void {
    const held = [...this.hung];
    this.hung.clear();
    for (const res of held) sendFault(res, { status: 503 });
  }

  /** Cuts every held call's connection, so that no caller without a timeout waits on a fake that forgot it. */
  private cutHung(): void {
    for (const res of this.hung) res.socket?.destroy();
    this.hung.clear();
  }

  newResponseUrl(): string {
    const id = randomUUID();
    this.responseLog.set(id, []);
    return `${this.url}/respond/${id}`;
  }

  responses(id: string): ResponseUrlPost[] {
    return structuredClone(this.responseLog.get(id) ?? []);
  }

  responsesFor(url: string): ResponseUrlPost[] {
    const id = RESPOND_PATH.exec(new URL(url).pathname)?.[1];
    return id ? this.responses(id) : [];
  }

  reset(): void {
    this.ws.reset();
    this.recorded = [];
    this.faulted = [];
    this.faults = new Map();
    this.standing = [];
    this.down = false;
    this.cutHung();
    this.responseLog = new Map();
  }

  async stop(): Promise<void> {
    const i = running.indexOf(this);
    if (i >= 0) running.splice(i, 1);
    this.cutHung();
    // fetch keeps connections alive; without this, close() waits for their idle timeout.
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.server.close((err) => (err ? reject(err) : resolve())));
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    let raw: string;
    try {
      raw = (await readBody(req)).toString('utf8');
    } catch (err) {
      if (err instanceof BodyTooLarge) return sendText(res, 413, 'request_too_large');
      throw err;
    }
    if (url.pathname.startsWith('/api/')) return this.webApi(decodeURIComponent(url.pathname.slice('/api/'.length)), url, req, res, raw);
    const respondId = RESPOND_PATH.exec(url.pathname)?.[1];
    if (respondId && req.method === 'POST') return this.respond(respondId, req, res, raw);
    sendText(res, 404, 'not found');
  }

  private webApi(method: string, url: URL, req: IncomingMessage, res: ServerResponse, raw: string): void {
    const call = parseApiCall(req, url.searchParams, raw);
    const at = Date.now();
    const fault: Fault | 'down' | undefined = this.down
      ? 'down'
      : (this.faults.get(method)?.shift() ?? this.standing.find((e) => e.method === method && e.match(call.args))?.fault);
    if (fault) {
      this.faulted.push({ method, args: call.args, at, fault });
      if (fault !== 'down' && 'lostAnswer' in fault) {
        this.recorded.push({ method, args: call.args, at, response: this.answer(method, call) });
        req.socket.destroy();
        return;
      }
      if (fault !== 'down' && 'hang' in fault) return this.hold(res);
      return sendFault(res, fault);
    }
    const response = this.answer(method, call);
    this.recorded.push({ method, args: call.args, at, response });
    sendJson(res, 200, response);
  }

  private hold(res: ServerResponse): void {
    this.hung.add(res);
    // A caller that gives up (its timeout) closes the connection: nothing is left to answer.
    res.once('close', () => this.hung.delete(res));
  }

  private answer(method: string, call: ParsedCall): ApiResult {
    const run = methodFor(method);
    if (!run) return { ok: false, error: 'unknown_method' };
    if (!call.ok) return { ok: false, error: call.error };
    if (!call.token) return { ok: false, error: 'not_authed' };
    if (call.token !== this.token) return { ok: false, error: 'invalid_auth' };
    return run(call.args, this.ws);
  }

  /** A response_url takes JSON only (Bolt's respond() sends it so); unknown ids are 404 as expired URLs are. */
  private respond(id: string, req: IncomingMessage, res: ServerResponse, raw: string): void {
    const log = this.responseLog.get(id);
    if (!log) return sendText(res, 404, 'no_service');
    let body: unknown;
    try {
      body = mediaType(req) === 'application/json' ? JSON.parse(raw) : undefined;
    } catch {
      body = undefined;
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return sendText(res, 400, 'invalid_payload');
    log.push({ at: Date.now(), body: body as Record<string, unknown> });
    sendJson(res, 200, { ok: true });
  }
}

/** Slack's 429 carries Retry-After (seconds) and a JSON body; its 5xx come from the edge, not the API, as text. */
function sendFault(res: ServerResponse, fault: Exclude<Fault, { lostAnswer: true } | { hang: true }> | 'down'): void {
  if (fault === 'down') return sendText(res, 503, 'service unavailable');
  if ('error' in fault) return sendJson(res, 200, { ok: false, error: fault.error });
  if (fault.status === 429) return sendJson(res, 429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(fault.retryAfter) });
  sendText(res, fault.status, fault.status === 500 ? 'internal server error' : 'service unavailable');
}
