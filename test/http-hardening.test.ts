import { execFile, execFileSync } from 'node:child_process';
import { request } from 'node:http';
import { promisify } from 'node:util';
import { keccak256, toHex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mine } from '../src/devnet/devnet.js';
import { EPHEMERAL, generateDiscordKeys, type SlashCommandInput } from './fakes/discord/index.js';
import { postSignedForm, sendSlashCommand } from './fakes/slack.js';
import { useWorld } from './helpers/world.js';
import { metricValue, type RunningXmsg, waitFor } from './helpers/xmsg.js';

// Who may reach what on xmsg's HTTP server: the console (loopback sockets, or a token), the operator API (a
// bearer token), and the Slack and Discord callbacks (64 KiB, signed, never twice, from xmsg's own server only).

const A = 981;
const B = 982;
const SLACK_TOKEN = 'xoxb-hardening-token';
const SECRET = 'hardening-signing-secret';
const SLACK_CHANNEL = 'C0HARDEN';
const ADMIN = 'U0ADMIN';
const DISCORD_TOKEN = 'discord-hardening-bot-token';
const APP_ID = '1100000000000000009';
const GUILD = '1200000000000000009';
const OTHER_GUILD = '1200000000000000777';
const DISCORD_CHANNEL = '1210000000000000009';
const ONCALL_ROLE = '1300000000000000009';
const ALICE = '1400000000000000009';
const KEYS = generateDiscordKeys();
const CONSOLE_TOKEN = 'console-token-0123456789abcdef';
const API_TOKEN = 'api-token-0123456789abcdef';

const world = useWorld({
  name: 'hardening',
  chainIds: [A, B],
  slack: { token: SLACK_TOKEN },
  discord: {
    token: DISCORD_TOKEN,
    applicationId: APP_ID,
    guildId: GUILD,
    channelId: DISCORD_CHANNEL,
    roles: [{ id: ONCALL_ROLE, name: 'oncall' }],
  },
  scope: 'test',
  mineBeforeXmsg: true,
});

/**
 * Another host: a network namespace of this test's own, joined to this machine by a veth pair, so that its
 * requests reach xmsg (bound to 0.0.0.0) from a socket address that is not loopback. Addresses from the
 * benchmarking range, on the pair alone.
 */
const NS = `xmsgh${process.pid}`;
const SUBNET = `198.18.${process.pid % 250}`;
const HOST_IP = `${SUBNET}.1`;
const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

beforeAll(() => {
  try {
    ip('netns', 'add', NS);
    ip('link', 'add', `${NS}a`, 'type', 'veth', 'peer', 'name', `${NS}b`, 'netns', NS);
    ip('addr', 'add', `${HOST_IP}/30`, 'dev', `${NS}a`);
    ip('link', 'set', `${NS}a`, 'up');
    ip('-n', NS, 'addr', 'add', `${SUBNET}.2/30`, 'dev', `${NS}b`);
    ip('-n', NS, 'link', 'set', `${NS}b`, 'up');
    ip('-n', NS, 'link', 'set', 'lo', 'up');
  } catch (err) {
    throw new Error(`cannot make the network namespace standing for another host (needs root and iproute2): ${(err as Error).message}`);
  }
});
afterAll(() => {
  // Deleting the namespace deletes the veth pair with it.
  execFileSync('ip', ['netns', 'del', NS], { stdio: 'ignore' });
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** An HTTP request made from the other host, with any headers (Host included). */
async function fromOtherHost(
  port: number,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  const script = `
    const http = require('node:http');
    const [port, path, options] = [Number(process.argv[1]), process.argv[2], JSON.parse(process.argv[3])];
    const req = http.request({ host: ${JSON.stringify(HOST_IP)}, port, path, method: options.method ?? 'GET', headers: options.headers ?? {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => process.stdout.write(JSON.stringify({ status: res.statusCode, headers: res.headers, body })));
    });
    req.on('error', (e) => { process.stderr.write(e.message); process.exit(1); });
    req.end(options.body);`;
  const { stdout } = await promisify(execFile)('ip', [
    'netns',
    'exec',
    NS,
    process.execPath,
    '-e',
    script,
    String(port),
    path,
    JSON.stringify(options),
  ]);
  return JSON.parse(stdout) as Answer;
}

/** A request from this machine (loopback) with headers fetch would not let us set. */
function fromHere(
  port: number,
  path: string,
  options: { method?: string; headers?: Record<string, string | number>; body?: string | Buffer } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    if (options.body !== undefined) req.end(options.body);
    // With a body announced but never sent: an answer proves the server judged the request without reading it.
    else if (options.headers?.['content-length'] !== undefined) req.flushHeaders();
    else req.end();
  });
}

const jsonPost = (body: unknown, extra: Record<string, string> = {}) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...extra },
  body: JSON.stringify(body),
});

describe('the console from another host', () => {
  it('is refused to a non-loopback socket whatever the Host header says, and served on loopback', async () => {
    const x = await world.startXmsg({ XMSG_CONSOLE: '1' });
    for (const host of ['localhost', '127.0.0.1', `localhost:${x.app.port}`, '[::1]']) {
      const page = await fromOtherHost(x.app.port, '/', { headers: { host } });
      expect(page.status).toBe(403);
      expect(page.body).toContain('served only to this machine');
      expect(page.body).toContain('XMSG_CONSOLE_TOKEN');
    }
    expect((await fromOtherHost(x.app.port, '/console/state', { headers: { host: 'localhost' } })).status).toBe(403);
    const ack = await fromOtherHost(x.app.port, '/console/command', {
      ...jsonPost({ name: 'mallory', text: 'silence kind cross_safety_violation 30d' }),
      headers: { host: 'localhost', 'content-type': 'application/json' },
    });
    expect(ack.status).toBe(403);
    expect(await x.app.alerts.store.unendedSilences(Date.now())).toEqual([]);
    // What /api serves is not the console's to guard: open without XMSG_API_TOKEN.
    expect((await fromOtherHost(x.app.port, '/api/alerts')).status).toBe(200);

    // On this machine it is served as before, with no token.
    expect((await fromHere(x.app.port, '/')).status).toBe(200);
    expect((await fromHere(x.app.port, '/console/command', jsonPost({ name: 'ops', text: 'help' }))).status).toBe(200);
  });

  it('lets anyone who signs in with XMSG_CONSOLE_TOKEN in, from anywhere, with a session cookie that is not the token', async () => {
    const x = await world.startXmsg({ XMSG_CONSOLE: '1', XMSG_CONSOLE_TOKEN: CONSOLE_TOKEN });
    const port = x.app.port;
    // Without a session: the sign-in form, and 401 for the console's data, even on loopback.
    const form = await fromOtherHost(port, '/');
    expect(form.status).toBe(200);
    expect(form.body).toContain('action="/console/login"');
    expect(form.body).not.toContain('EventSource');
    expect((await fromOtherHost(port, '/console/state')).status).toBe(401);
    expect((await fromHere(port, '/console/state')).status).toBe(401);
    expect((await fromHere(port, '/console/command', jsonPost({ name: 'ops', text: 'help' }))).status).toBe(401);

    const signIn = (token: string, extra: Record<string, string> = {}) =>
      fromOtherHost(port, '/console/login', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...extra },
        body: new URLSearchParams({ token }).toString(),
      });
    const wrong = await signIn(`${CONSOLE_TOKEN}x`);
    expect(wrong.status).toBe(401);
    expect(wrong.body).toContain('That is not the console token.');
    expect(wrong.headers['set-cookie']).toBeUndefined();
    expect((await signIn(CONSOLE_TOKEN, { origin: 'http://evil.example' })).status).toBe(403);

    const ok = await signIn(CONSOLE_TOKEN);
    expect(ok.status).toBe(303);
    expect(ok.headers.location).toBe('/');
    const setCookie = String(ok.headers['set-cookie']);
    expect(setCookie).toMatch(/^xmsg_console=[^;]+; Path=\/; Max-Age=43200; HttpOnly; SameSite=Strict$/);
    expect(setCookie).not.toContain(CONSOLE_TOKEN);
    const cookie = setCookie.split(';')[0]!;

    const page = await fromOtherHost(port, '/', { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(page.body).toContain('EventSource');
    expect((await fromOtherHost(port, '/console/state', { headers: { cookie } })).status).toBe(200);
    const help = await fromOtherHost(port, '/console/command', {
      ...jsonPost({ name: 'ops', text: 'help' }),
      headers: { cookie, 'content-type': 'application/json' },
    });
    expect(help.status).toBe(200);
    expect(JSON.parse(help.body).text).toContain('/xmsg ack');
    // The same session on this machine; a forged or altered one nowhere.
    expect((await fromHere(port, '/console/state', { headers: { cookie } })).status).toBe(200);
    const [name, value] = cookie.split('=') as [string, string];
    const [expires, nonce, mac] = value.split('.') as [string, string, string];
    const longer = `${name}=${Number(expires) + 86_400_000}.${nonce}.${mac}`;
    expect((await fromOtherHost(port, '/console/state', { headers: { cookie: longer } })).status).toBe(401);
    expect((await fromOtherHost(port, '/console/state', { headers: { cookie: `${name}=${CONSOLE_TOKEN}` } })).status).toBe(401);
  });
});

describe('the bind address', () => {
  it('serves only this machine with XMSG_HTTP_HOST=127.0.0.1', async () => {
    const x = await world.startXmsg({ XMSG_HTTP_HOST: '127.0.0.1' });
    expect((await fromHere(x.app.port, '/healthz')).status).toBe(200);
    await expect(fromOtherHost(x.app.port, '/healthz')).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('the operator API', () => {
  it('refuses /api/* and /metrics without the bearer token when XMSG_API_TOKEN is set; probes stay open', async () => {
    const x = await world.startXmsg({ XMSG_API_TOKEN: API_TOKEN });
    const hash = keccak256(toHex('hardening'));
    for (const path of ['/api/alerts', '/api/alerts/XM-1', `/api/messages/${hash}`, '/metrics']) {
      for (const authorization of [
        undefined,
        `Bearer ${API_TOKEN}x`,
        `Basic ${Buffer.from(`x:${API_TOKEN}`).toString('base64')}`,
        API_TOKEN,
      ]) {
        const res = await fetch(`${x.baseUrl}${path}`, { headers: authorization ? { authorization } : {} });
        expect(res.status, `${path} with ${authorization}`).toBe(401);
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
        expect(await res.text()).toContain('XMSG_API_TOKEN');
      }
      const ok = await fetch(`${x.baseUrl}${path}`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
      expect(ok.status, path).not.toBe(401);
    }
    expect((await fetch(`${x.baseUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${x.baseUrl}/readyz`)).status).toBe(200);
  });

  it('reads the cluster gauges from Redis at most every 2 s, however often it is scraped', async () => {
    const x = await world.startXmsg();
    const cursor = async () =>
      metricValue(await (await fetch(`${x.baseUrl}/metrics`)).text(), `xmsg_chain_head{chain_id="${A}",label="cursor"}`);
    const before = await cursor();
    await mine(world.devnet.chain(A));
    await waitFor('the cursor to move in Redis', async () => Number(await x.app.redis.hget(x.app.store.keys.cursor(A), 'number')) > before);
    expect(await cursor()).toBe(before);
    await waitFor('the next refresh', async () => (await cursor()) > before, 5000);
  });
});

describe('Slack callbacks', () => {
  const slackEnv = () => ({
    SLACK_BOT_TOKEN: SLACK_TOKEN,
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_CHANNEL_ID: SLACK_CHANNEL,
    SLACK_ADMIN_USER_IDS: ADMIN,
    SLACK_API_URL: world.slack.apiUrl,
  });
  const events = (x: RunningXmsg) => `${x.baseUrl}/slack/events`;

  it('refuses a 1 MB body before reading it, and a replayed signed request', async () => {
    const x = await world.startXmsg(slackEnv());
    // Announced and never sent: answered at once, so nothing of it was read, let alone parsed.
    const announced = await fromHere(x.app.port, '/slack/events', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': 1024 * 1024 },
    });
    expect(announced.status).toBe(413);
    const sent = await postSignedForm(events(x), SECRET, { payload: 'x'.repeat(1024 * 1024) });
    expect(sent.status).toBe(413);

    const silence = await sendSlashCommand(events(x), SECRET, {
      text: 'silence 981 1h maintenance',
      userId: ADMIN,
      channelId: SLACK_CHANNEL,
    });
    expect(silence.status).toBe(200);
    expect((silence.body as { text: string }).text).toMatch(/^S-1: /);
    const replayed = await silence.resend();
    expect(replayed.status).toBe(401);
    expect(replayed.body).toBe('request already received (a replay)');
    expect(await x.app.alerts.store.unendedSilences(Date.now())).toHaveLength(1);
  });

  it('limits lookups that reach the chains to 5 a minute per person, and says when to try again', async () => {
    const x = await world.startXmsg(slackEnv());
    const say = async (text: string) => {
      const res = await sendSlashCommand(events(x), SECRET, { text, userId: 'U0CURIOUS', channelId: SLACK_CHANNEL });
      return (res.body as { text: string }).text;
    };
    for (let i = 0; i < 5; i++)
      expect(await say(`status ${keccak256(toHex(`unknown ${i}`))}`)).toContain('is tracked or in the recent blocks');
    expect(await say(`status ${keccak256(toHex('unknown 5'))}`)).toMatch(
      /^Lookups on the chains are limited to 5 per person every 60 s; try again in \d+ s\./,
    );
    // Alerts are read from Redis: never limited.
    expect(await say('status XM-1')).toContain('No alert XM-1');
  });
});

describe('Discord interactions', () => {
  const discordEnv = (overrides: Record<string, string> = {}) => ({
    DISCORD_BOT_TOKEN: DISCORD_TOKEN,
    DISCORD_APPLICATION_ID: APP_ID,
    DISCORD_CHANNEL_ID: DISCORD_CHANNEL,
    DISCORD_ONCALL_ROLE_ID: ONCALL_ROLE,
    DISCORD_API_URL: world.discord.apiUrl,
    DISCORD_PUBLIC_KEY: KEYS.publicKeyHex,
    ...overrides,
  });
  async function start(overrides: Record<string, string> = {}) {
    const x = await world.startXmsg(discordEnv(overrides));
    await waitFor('the discord client to be ready', () => x.app.discordClient?.isReady(), 10_000);
    return x;
  }
  const silence: SlashCommandInput = {
    userId: ALICE,
    username: 'alice',
    roles: [ONCALL_ROLE],
    subcommand: 'silence',
    options: { target: '981', duration: '1h' },
  };

  it('refuses a 1 MB body before reading it, and a replayed signed request', async () => {
    const x = await start();
    const url = `${x.baseUrl}/discord/interactions`;
    const announced = await fromHere(x.app.port, '/discord/interactions', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': 1024 * 1024 },
    });
    expect(announced.status).toBe(413);
    const big = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `"${'x'.repeat(1024 * 1024)}"` });
    expect(big.status).toBe(413);

    const first = await world.discord.postSlashCommand(url, KEYS, silence);
    expect(first.status).toBe(200);
    expect((first.body as { data: { content: string } }).data.content).toMatch(/^S-1: /);
    const replayed = await first.resend();
    expect(replayed.status).toBe(401);
    expect(replayed.body).toEqual({ error: 'request already received (a replay)' });
    expect(await x.app.alerts.store.unendedSilences(Date.now())).toHaveLength(1);
  });

  it('refuses interactions from a DM or from another server, on the gateway and over HTTP', async () => {
    const x = await start({ DISCORD_GUILD_ID: GUILD });
    const url = `${x.baseUrl}/discord/interactions`;
    const DM = 'xmsg answers only in its Discord server, not in direct messages.';
    const ELSEWHERE = 'xmsg does not answer in this server: it serves only the server it is set up for.';
    const status = { userId: ALICE, username: 'alice', roles: [ONCALL_ROLE], subcommand: 'status', options: { target: 'XM-1' } };

    for (const [from, refusal] of [
      [{ dm: true }, DM],
      [{ guildId: OTHER_GUILD }, ELSEWHERE],
    ] as const) {
      const gateway = world.discord.slashCommand({ ...silence, from });
      const answer = await world.discord.answer(gateway.id);
      expect(answer.content).toBe(refusal);
      expect(answer.flags & EPHEMERAL).toBe(EPHEMERAL);
      const overHttp = await world.discord.postSlashCommand(url, KEYS, { ...status, from });
      expect(overHttp.status).toBe(200);
      expect(overHttp.body).toEqual({ type: 4, data: { content: refusal, flags: EPHEMERAL, allowed_mentions: { parse: [] } } });
    }
    expect(await x.app.alerts.store.unendedSilences(Date.now())).toEqual([]);
    // Its own server is served.
    const home = await world.discord.postSlashCommand(url, KEYS, status);
    expect((home.body as { data: { content: string } }).data.content).toContain('No alert XM-1');
  });
});
