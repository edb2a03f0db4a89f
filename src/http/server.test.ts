import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpServer, MAX_BODY_BYTES } from './server.js';

const log = pino({ level: 'silent' });
let server: HttpServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A server with one POST route that counts the bodies it was handed. */
async function start(limits?: ConstructorParameters<typeof HttpServer>[1]) {
  server = new HttpServer(log, limits);
  const handled: number[] = [];
  server.route('POST', '/in', (_req, res, _params, body) => {
    handled.push(body.length);
    res.end('ok');
  });
  return { port: await server.listen(0, '127.0.0.1'), handled };
}

/** What a raw connection receives until the server closes it, and how long that took. */
function rawExchange(port: number, send: (socket: Socket) => void): Promise<{ text: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => send(socket));
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (c: string) => (text += c));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve({ text, ms: Date.now() - started }));
  });
}

describe('the HTTP server', () => {
  it('refuses a body over 64 KiB from its Content-Length, before any of it is sent, and closes the connection', async () => {
    const { port, handled } = await start();
    const { text } = await rawExchange(port, (s) => s.write(`POST /in HTTP/1.1\r\nHost: x\r\nContent-Length: ${1024 * 1024}\r\n\r\n`));
    expect(text).toMatch(/^HTTP\/1\.1 413 /);
    expect(text).toContain('connection: close');
    expect(text).toContain(`body larger than ${MAX_BODY_BYTES} bytes`);
    expect(handled).toEqual([]);
  });

  it('refuses a chunked body as soon as it passes 64 KiB, and takes one at the limit', async () => {
    const { port, handled } = await start();
    const post = (chunks: number, size: number) =>
      new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/in', method: 'POST' }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        for (let i = 0; i < chunks; i++) req.write(Buffer.alloc(size, 97));
        req.end();
      });
    expect(await post(16, 64 * 1024)).toBe(413);
    expect(await post(4, 16 * 1024)).toBe(200);
    expect(handled).toEqual([64 * 1024]);
  });

  it('closes a connection whose headers, or whose body, do not arrive in time', async () => {
    const { port, handled } = await start({ headersTimeoutMs: 300, requestTimeoutMs: 600, maxConnections: 10 });
    const slowHeaders = await rawExchange(port, (s) => s.write('POST /in HTTP/1.1\r\nHost: x\r\n'));
    expect(slowHeaders.text).toMatch(/^HTTP\/1\.1 408 /);
    expect(slowHeaders.ms).toBeLessThan(3000);
    const slowBody = await rawExchange(port, (s) => s.write('POST /in HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc'));
    expect(slowBody.ms).toBeGreaterThanOrEqual(550);
    expect(slowBody.ms).toBeLessThan(3000);
    expect(handled).toEqual([]);
  });

  it('refuses connections past its cap', async () => {
    const { port } = await start({ headersTimeoutMs: 5000, requestTimeoutMs: 5000, maxConnections: 2 });
    const held = await Promise.all(
      [1, 2].map(
        () =>
          new Promise<Socket>((resolve) => {
            const s = connect(port, '127.0.0.1', () => resolve(s));
          }),
      ),
    );
    await new Promise((r) => setTimeout(r, 50));
    const third = await rawExchange(port, (s) => s.write('GET /in HTTP/1.1\r\nHost: x\r\n\r\n'));
    expect(third.text).toBe('');
    for (const s of held) s.destroy();
  });
});
