import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';

export type RouteHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  params: Record<string, string>,
  rawBody: Buffer,
) => Promise<void> | void;

interface Route {
  method: string;
  pattern: RegExp;
  names: string[];
  handler: RouteHandler;
  /** Hands the untouched request to a listener that reads the body itself (e.g. Bolt's receiver). */
  raw?: (req: IncomingMessage, res: ServerResponse) => void;
}

/**
 * Every body xmsg accepts is small: Slack and Discord callbacks are a few KiB, the console's requests a few hundred
 * bytes. A larger one is refused before it is read, so an unsigned sender cannot make xmsg buffer or parse it.
 */
export const MAX_BODY_BYTES = 64 * 1024;

/** Limits on every connection, so that slow or many clients cannot hold the server (docs/ARCHITECTURE.md §5). */
export interface ConnectionLimits {
  /** The request line and headers must arrive within this (Node's server.headersTimeout). */
  headersTimeoutMs: number;
  /** The whole request, body included, must arrive within this (server.requestTimeout). */
  requestTimeoutMs: number;
  /** Open connections at most; more are refused at once (server.maxConnections). Server-sent events count. */
  maxConnections: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, maxConnections: 1024 };

/**
 * The one HTTP server of xmsg. Routes are registered by the layers that own them (metrics, API, chat platforms);
 * the raw body is handed over untouched because signature checks (Slack, Discord) need the exact bytes. It knows
 * nothing of xmsg, so every layer that serves requests may mount on it (docs/ARCHITECTURE.md §2).
 */
export class HttpServer {
  private readonly routes: Route[] = [];
  private server?: Server;

  constructor(
    private readonly log: Logger,
    private readonly limits: ConnectionLimits = DEFAULT_CONNECTION_LIMITS,
  ) {}

  route(method: string, path: string, handler: RouteHandler): this {
    const names: string[] = [];
    const pattern = new RegExp(
      '^' +
        path.replace(/:([A-Za-z]+)/g, (_m, name: string) => {
          names.push(name);
          return '([^/]+)';
        }) +
        '/?$',
    );
    this.routes.push({ method, pattern, names, handler });
    return this;
  }

  /** Mounts a Node request listener at an exact path for every method. */
  mount(path: string, listener: (req: IncomingMessage, res: ServerResponse) => void): this {
    this.routes.push({ method: '*', pattern: new RegExp(`^${path}/?$`), names: [], handler: () => undefined, raw: listener });
    return this;
  }

  /** `host` is XMSG_HTTP_HOST: 0.0.0.0 for every interface, 127.0.0.1 to serve this machine only. */
  async listen(port: number, host = '0.0.0.0'): Promise<number> {
    // Whatever a request does, it must not end the process as an unhandled rejection.
    const { headersTimeoutMs, requestTimeoutMs, maxConnections } = this.limits;
    this.server = createServer(
      // Node checks the two timeouts every connectionsCheckingInterval; the default (30 s) would let them run long.
      { headersTimeout: headersTimeoutMs, requestTimeout: requestTimeoutMs, connectionsCheckingInterval: Math.min(1000, headersTimeoutMs) },
      (req, res) => void this.handle(req, res).catch((err: unknown) => this.failed(req, res, err)),
    );
    this.server.maxConnections = maxConnections;
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, resolve);
    });
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const matching = this.routes.filter((r) => r.pattern.test(url.pathname));
    const route = matching.find((r) => r.method === req.method || r.method === '*');
    if (!route) {
      if (matching.length) sendJson(res, 405, { error: `method ${req.method} not allowed` });
      else sendJson(res, 404, { error: 'not found' });
      return;
    }
    if (route.raw) {
      route.raw(req, res);
      return;
    }
    const match = route.pattern.exec(url.pathname)!;
    let params: Record<string, string>;
    try {
      params = Object.fromEntries(route.names.map((n, i) => [n, decodeURIComponent(match[i + 1]!)]));
    } catch {
      sendJson(res, 400, { error: 'malformed percent-encoding in the path' });
      return;
    }
    try {
      const body = await readBody(req, MAX_BODY_BYTES);
      await route.handler(req, res, params, body);
    } catch (err) {
      if (err instanceof BodyTooLarge) {
        refuseTooLarge(res, err, (r, text) => sendJson(r, 413, { error: text }));
        return;
      }
      this.log.error({ err, path: url.pathname }, 'HTTP handler failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.end();
    }
  }

  private failed(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    this.log.error({ err, url: req.url }, 'HTTP request failed');
    const bad = err instanceof TypeError || err instanceof URIError; // an unparseable URL, for one
    if (!res.headersSent) sendJson(res, bad ? 400 : 500, { error: bad ? 'bad request' : 'internal error' });
    else res.end();
  }
}

export class BodyTooLarge extends Error {
  constructor(readonly maxBytes: number) {
    super(`body larger than ${maxBytes} bytes`);
  }
}

/**
 * The whole request body, refused (BodyTooLarge) before any of it is read when its Content-Length is over
 * `maxBytes`, and as soon as it passes `maxBytes` otherwise (a chunked body), so a client cannot fill memory.
 */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) throw new BodyTooLarge(maxBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new BodyTooLarge(maxBytes);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * Answers 413 and closes the connection once the answer is out, instead of reading the rest of the body to keep the
 * connection alive (Node destroys a `connection: close` socket as soon as the answer is written).
 */
export function refuseTooLarge(res: ServerResponse, err: BodyTooLarge, send: (res: ServerResponse, text: string) => void): void {
  res.shouldKeepAlive = false;
  res.setHeader('connection', 'close');
  send(res, err.message);
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, null, 2);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
