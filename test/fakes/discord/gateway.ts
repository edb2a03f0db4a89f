/**
 * The gateway side of the loopback Discord, speaking the real protocol (API v10, JSON encoding, no compression) so
 * the real discord.js Client connects to it: HELLO (op 10) → IDENTIFY (op 2) → READY + GUILD_CREATE, heartbeats
 * (op 1 → op 11), RESUME (op 6) replaying what was dispatched while the client was away, then RESUMED. Sessions
 * outlive their sockets, as Discord's do, so a reconnect loses nothing.
 */

import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import type { DiscordState } from './state.js';

const OP = {
  Dispatch: 0,
  Heartbeat: 1,
  Identify: 2,
  PresenceUpdate: 3,
  Resume: 6,
  Reconnect: 7,
  RequestGuildMembers: 8,
  InvalidSession: 9,
  Hello: 10,
  HeartbeatAck: 11,
} as const;
const CLOSE = {
  UnknownError: 4000,
  UnknownOpcode: 4001,
  DecodeError: 4002,
  NotAuthenticated: 4003,
  AuthenticationFailed: 4004,
  AlreadyAuthenticated: 4005,
  InvalidAPIVersion: 4012,
} as const;
const GUILDS_INTENT = 1;

export interface DispatchRecord {
  s: number;
  t: string;
  d: unknown;
}

interface Session {
  id: string;
  seq: number;
  intents: number;
  log: DispatchRecord[];
  socket?: WebSocket;
}

export interface GatewayConnection {
  /** `/` for connections from GET /gateway/bot's URL, `/resume` for resume_gateway_url. */
  path: string;
  query: Record<string, string>;
  openedAt: number;
  /** Opcodes the client sent, in order. */
  received: number[];
  heartbeats: number;
  identified: boolean;
  resumed: boolean;
  closedCode?: number;
}

export interface GatewayOptions {
  token: string;
  heartbeatIntervalMs: number;
  /** Base ws:// URL of this server. */
  url: () => string;
}

export class DiscordGateway {
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly sessions = new Map<string, Session>();
  readonly connections: GatewayConnection[] = [];
  private readonly sockets = new Set<WebSocket>();
  private readonly waiters: Array<() => void> = [];

  constructor(
    private readonly state: DiscordState,
    private readonly options: GatewayOptions,
  ) {}

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, req));
  }

  /** Sessions whose client is connected and past READY/RESUMED. */
  get readySessions(): number {
    return [...this.sessions.values()].filter((s) => s.socket && s.socket.readyState === s.socket.OPEN).length;
  }

  /** Dispatches an event to every session (queued for a resume when its client is away), as Discord does. */
  dispatch(t: string, d: unknown): void {
    for (const session of this.sessions.values()) {
      const record = { s: ++session.seq, t, d };
      session.log.push(record);
      if (session.socket?.readyState === session.socket?.OPEN) send(session.socket!, { op: OP.Dispatch, ...record });
    }
  }

  /**
   * Makes connected clients reconnect: `op7` asks politely (op 7 Reconnect), `drop` cuts the TCP connection,
   * `close4000` closes with 4000 (unknown error): all three make discord.js resume the session.
   * `invalidate` sends op 9 (not resumable), which makes it identify again with a new session.
   */
  reconnectClients(how: 'op7' | 'drop' | 'close4000' | 'invalidate'): void {
    for (const session of this.sessions.values()) {
      const ws = session.socket;
      if (!ws) continue;
      if (how === 'op7') send(ws, { op: OP.Reconnect, d: null });
      else if (how === 'drop') ws.terminate();
      else if (how === 'close4000') ws.close(CLOSE.UnknownError, 'Unknown error');
      else {
        this.sessions.delete(session.id);
        send(ws, { op: OP.InvalidSession, d: false });
      }
    }
  }

  /** Resolves when some client has a session with an open socket (after READY or RESUMED). */
  async waitForReady(timeoutMs = 10_000): Promise<void> {
    if (this.readySessions > 0) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no gateway client became ready within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  reset(): void {
    this.connections.length = 0;
  }

  async close(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private onConnection(ws: WebSocket, req: IncomingMessage): void {
    const url = new URL(req.url ?? '/', 'ws://fake');
    const conn: GatewayConnection = {
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      openedAt: Date.now(),
      received: [],
      heartbeats: 0,
      identified: false,
      resumed: false,
    };
    this.connections.push(conn);
    this.sockets.add(ws);
    let session: Session | undefined;
    ws.on('close', (code) => {
      conn.closedCode = code;
      this.sockets.delete(ws);
      if (session?.socket === ws) {
        session.socket = undefined;
        // A client closing with 1000/1001 ends its session; anything else (4200 when it means to resume) keeps it.
        if (code === 1000 || code === 1001) this.sessions.delete(session.id);
      }
    });
    if (conn.query.v !== '10') {
      ws.close(CLOSE.InvalidAPIVersion, 'Invalid API version');
      return;
    }
    if ((conn.query.encoding ?? 'json') !== 'json' || conn.query.compress) {
      ws.close(CLOSE.DecodeError, 'This fake gateway speaks uncompressed JSON only');
      return;
    }
    send(ws, {
      op: OP.Hello,
      d: { heartbeat_interval: this.options.heartbeatIntervalMs, _trace: ['["fake-gateway",{"micros":0}]'] },
      s: null,
      t: null,
    });

    ws.on('message', (raw: RawData, isBinary) => {
      let payload: { op?: number; d?: Record<string, unknown> | number | null };
      try {
        if (isBinary) throw new Error('binary frames need compression');
        payload = JSON.parse(raw.toString());
      } catch {
        ws.close(CLOSE.DecodeError, 'Error while decoding payload.');
        return;
      }
      const op = payload.op ?? -1;
      conn.received.push(op);
      switch (op) {
        case OP.Heartbeat:
          conn.heartbeats++;
          send(ws, { op: OP.HeartbeatAck });
          return;
        case OP.Identify: {
          if (session) return void ws.close(CLOSE.AlreadyAuthenticated, 'Already authenticated.');
          const d = (payload.d ?? {}) as { token?: string; intents?: number; properties?: unknown };
          if (d.token !== this.options.token) return void ws.close(CLOSE.AuthenticationFailed, 'Authentication failed.');
          if (typeof d.intents !== 'number' || !d.properties) return void ws.close(CLOSE.DecodeError, 'Error while decoding payload.');
          session = { id: randomBytes(16).toString('hex'), seq: 0, intents: d.intents, log: [], socket: ws };
          this.sessions.set(session.id, session);
          conn.identified = true;
          this.ready(session);
          return;
        }
        case OP.Resume: {
          if (session) return void ws.close(CLOSE.AlreadyAuthenticated, 'Already authenticated.');
          const d = (payload.d ?? {}) as { token?: string; session_id?: string; seq?: number };
          const found = d.session_id ? this.sessions.get(d.session_id) : undefined;
          if (d.token !== this.options.token || !found) {
            send(ws, { op: OP.InvalidSession, d: false });
            return;
          }
          found.socket?.terminate();
          session = found;
          session.socket = ws;
          conn.resumed = true;
          for (const e of session.log) if (e.s > (d.seq ?? 0)) send(ws, { op: OP.Dispatch, ...e });
          const resumed = { s: ++session.seq, t: 'RESUMED', d: { _trace: ['["fake-gateway",{"micros":0}]'] } };
          send(ws, { op: OP.Dispatch, ...resumed });
          this.notifyReady();
          return;
        }
        case OP.PresenceUpdate:
        case OP.RequestGuildMembers:
          if (!session) return void ws.close(CLOSE.NotAuthenticated, 'Not authenticated.');
          return;
        default:
          ws.close(CLOSE.UnknownOpcode, 'Unknown opcode.');
      }
    });
  }

  private ready(session: Session): void {
    const s = this.state;
    const push = (t: string, d: unknown) => {
      const record = { s: ++session.seq, t, d };
      session.log.push(record);
      send(session.socket!, { op: OP.Dispatch, ...record });
    };
    push('READY', {
      v: 10,
      user: { ...s.bot, verified: true, mfa_enabled: false, flags: 0, email: null },
      user_settings: {},
      guilds: [{ id: s.guildId, unavailable: true }],
      presences: [],
      private_channels: [],
      relationships: [],
      guild_join_requests: [],
      geo_ordered_rtc_regions: ['us-east'],
      session_type: 'normal',
      session_id: session.id,
      resume_gateway_url: `${this.options.url()}/resume`,
      shard: [0, 1],
      application: { id: s.applicationId, flags: 8953856 },
      _trace: ['["fake-gateway",{"micros":0}]'],
    });
    if (session.intents & GUILDS_INTENT) push('GUILD_CREATE', s.guildObject());
    this.notifyReady();
  }

  private notifyReady(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

function send(ws: WebSocket, payload: Record<string, unknown>): void {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ s: null, t: null, d: null, ...payload }));
}
