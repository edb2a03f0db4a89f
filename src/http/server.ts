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

const MAX_BODY_BYTES = 1024 * 1024;

/**
 * The one HTTP server of xmsg. Routes are registered by the layers that own them (metrics, API, chat platforms);
 * the raw body is handed over untouched because signature checks (Slack, Discord) need the exact bytes. It knows
 * nothing of xmsg, so every layer that serves requests may mount on it (docs/ARCHITECTURE.md §2).
 */
export class HttpServer {
  private readonly routes: Route[] = [];
  private server?: Server;

  constructor(private readonly log: Logger) {}

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

  async listen(port: number, host = '0.0.0.0'): Promise<number> {
    // Whatever a request does, it must not end the process as an unhandled rejection.
    this.server = createServer((req, res) => void this.handle(req, res).catch((err: unknown) => this.failed(req, res, err)));
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
        sendJson(res, 413, { error: err.message });
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

/** The whole request body, refused (BodyTooLarge) as soon as it passes `maxBytes`, so a client cannot fill memory. */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new BodyTooLarge(maxBytes);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, null, 2);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
