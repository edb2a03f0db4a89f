import { mkdir } from 'node:fs/promises';
import { request } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { type Hex, keccak256, toHex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatUpdate } from '../src/alerts/chat-port.js';
import { ConsoleAdapter } from '../src/chat/console/adapter.js';
import { ConfigError, parseEnv } from '../src/config.js';
import { emitInitiating, executeMessage } from '../src/devnet/devnet.js';
import { useWorld } from './helpers/world.js';
import { type RunningXmsg, waitFor } from './helpers/xmsg.js';

const A = 971;
const B = 972;
/** Screenshots land here; the folder is git-ignored. */
const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'test-artifacts');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const world = useWorld({ name: 'console', chainIds: [A, B], scope: 'test', holdLabels: 'each', mineBeforeXmsg: true });
let browser: Browser;

beforeAll(async () => {
  // Playwright gives every launch a fresh, empty user-data dir of its own and deletes it on close.
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});
afterAll(async () => {
  await browser?.close();
});

function start(overrides: Record<string, string> = {}) {
  return world.startXmsg({ XMSG_CONSOLE: '1', XMSG_CHAT_MAX_PER_S: '50', XMSG_ESCALATE_AFTER_S: '600', ...overrides });
}

async function invalidMessage(): Promise<Hex> {
  const init = await emitInitiating(world.devnet.chain(A));
  const msgHash = keccak256(toHex(`forged ${init.msgHash}`));
  await executeMessage(world.devnet.chain(B), init.identifier, msgHash);
  return msgHash;
}

async function openConsole(x: RunningXmsg, name?: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(err.message));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  (page as Page & { problems: string[] }).problems = problems;
  await page.goto(`${x.baseUrl}/`);
  await page.locator('#conn.live').waitFor();
  if (name !== undefined) await page.fill('#name', name);
  return page;
}

const problemsOf = (page: Page) => (page as Page & { problems: string[] }).problems;
const card = (page: Page, id: string) => page.locator(`article[data-alert="${id}"]`);
const threadReply = (page: Page, id: string, text: string) => card(page, id).locator('.thread li', { hasText: text });

async function command(page: Page, line: string): Promise<void> {
  await page.fill('#cmd', line);
  await page.press('#cmd', 'Enter');
}

describe('the local web console', () => {
  it('shows an alert live, acts on it with its buttons, and answers typed commands', async () => {
    const x = await start({ XMSG_PROMOTION_DEADLINE_S: '1' });
    const page = await openConsole(x);
    await page.locator('[data-chain="971"]', { hasText: 'head' }).waitFor();
    await page.locator('[data-empty="active"]').waitFor();
    await page.evaluate(() => Object.assign(window, { sameDocument: true }));

    // Acting without a name is refused in the page, before anything is sent.
    await command(page, '/xmsg list');
    await page.locator('#answer.error', { hasText: 'Enter your name' }).waitFor();
    await page.fill('#name', 'alice');

    const msgHash = await invalidMessage();
    await card(page, 'XM-1').waitFor({ timeout: 20_000 });
    const root = card(page, 'XM-1');
    expect(await root.locator('h3').textContent()).toBe('Invalid executing message on chain 972');
    expect(await root.getAttribute('class')).toContain('sev-critical');
    expect(await root.locator(`code[title="${msgHash}"]`).count()).toBe(1);
    expect(await root.locator('[data-role="state"]').textContent()).toBe('open');
    expect(await root.locator('button[data-button]').allTextContents()).toEqual(['Acknowledge', 'Escalate', 'Silence 1h', 'Resolve']);
    expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true); // live, no reload

    await command(page, '/xmsg list');
    await page.locator('#answer:not(.error) #answer-text', { hasText: 'XM-1 [critical] Invalid executing message on chain 972' }).waitFor();

    await root.locator('button[data-button="ack"]').click();
    await page.locator('#answer:not(.error)', { hasText: 'XM-1: Acknowledged by alice.' }).waitFor();
    await threadReply(page, 'XM-1', 'Acknowledged by alice.').waitFor();
    await root.locator('[data-role="state"]', { hasText: 'acknowledged by alice (console:alice)' }).waitFor();
    await root.locator('details[data-key="XM-1:audit"] > summary').click();
    await root.locator('.audit tr', { hasText: 'alice (console:alice)' }).locator('td', { hasText: /^ack$/ }).waitFor();

    // A second press is refused by the shared handlers, and the page says so.
    await root.locator('button[data-button="ack"]').click();
    await page.locator('#answer.error', { hasText: 'already acknowledged by alice (console:alice)' }).waitFor();

    await root.locator('button[data-button="escalate"]').click();
    await threadReply(page, 'XM-1', 'Escalated by alice (level 1).').locator('.mention', { hasText: '@on-call' }).waitFor();

    await command(page, '/xmsg frobnicate');
    await page.locator('#answer.error #answer-text', { hasText: 'unknown sub-command "frobnicate"' }).waitFor();
    expect(await page.locator('#answer-text').textContent()).toContain('/xmsg list [open|acked|silenced|all]');

    // A warning below the critical one: a valid message that is not cross-safe in time (the deadline is 1 s).
    const init = await emitInitiating(world.devnet.chain(B));
    await executeMessage(world.devnet.chain(A), init.identifier, init.msgHash);
    await card(page, 'XM-2').waitFor({ timeout: 20_000 });
    expect(await card(page, 'XM-2').getAttribute('class')).toContain('sev-warning');
    // Open alerts come first: the new warning is above the acknowledged critical alert.
    expect(await page.locator('article[data-alert]').evaluateAll((els) => els.map((e) => e.getAttribute('data-alert')))).toEqual([
      'XM-2',
      'XM-1',
    ]);

    // The same facts through the API: the console acted as alice through the shared command model.
    const detail = (await (await fetch(`${x.baseUrl}/api/alerts/XM-1`)).json()) as {
      alert: { state: string };
      audit: Array<{ who: string; action: string }>;
    };
    expect(detail.alert.state).toBe('acknowledged');
    expect(detail.audit.map((e) => [e.action, e.who])).toEqual([
      ['opened', 'xmsg'],
      ['ack', 'alice (console:alice)'],
      ['escalate', 'alice (console:alice)'],
    ]);

    await command(page, '/xmsg health');
    await page.locator('#answer:not(.error)', { hasText: 'chain 971: healthy' }).waitFor();
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'console.png'), fullPage: true });

    // The name is remembered by the browser; the threads by Redis.
    await page.reload();
    await page.locator('#conn.live').waitFor();
    expect(await page.inputValue('#name')).toBe('alice');
    await threadReply(page, 'XM-1', 'Acknowledged by alice.').waitFor();
    expect(problemsOf(page)).toEqual([]);
  });

  it('serves the same console from every replica, live, survives a restart, and shows names as text', async () => {
    const x1 = await start();
    const x2 = await start();
    const evil = '<img src=x onerror="window.pwned=1">';
    const [page1, page2] = await Promise.all([openConsole(x1), openConsole(x2, evil)]);
    await invalidMessage();
    await Promise.all([card(page1, 'XM-1').waitFor({ timeout: 20_000 }), card(page2, 'XM-1').waitFor({ timeout: 20_000 })]);

    await card(page2, 'XM-1').locator('button[data-button="resolve"]').click();
    // The change made through replica 2 reaches the page served by replica 1 without a reload (Redis pub/sub).
    await threadReply(page1, 'XM-1', `Resolved by ${evil}.`).waitFor();
    await card(page1, 'XM-1')
      .locator('[data-role="state"]', { hasText: `resolved by ${evil} (console:${evil})` })
      .waitFor();
    expect(await card(page1, 'XM-1').locator('button[data-button]').count()).toBe(0);
    for (const page of [page1, page2]) {
      expect(await page.locator('#alerts img').count()).toBe(0);
      expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
      expect(problemsOf(page)).toEqual([]);
    }
    await Promise.all([page1.close(), page2.close()]);

    await world.stopAllXmsg();
    const x3 = await start();
    const page3 = await openConsole(x3);
    await threadReply(page3, 'XM-1', `Resolved by ${evil}.`).waitFor();
    expect(await page3.locator('h2.section').allTextContents()).toEqual(['Needs attention', 'Resolved']);
    await page3.close();
  });

  it('lists the silences in effect and the scheduled ones, and drops a lifted one', async () => {
    const x = await start();
    const page = await openConsole(x, 'alice');
    await command(page, `/xmsg silence ${B} 1h at +1h maintenance window`);
    await page.locator('#answer:not(.error)', { hasText: 'S-1: new alerts matching chain 972 will be muted from' }).waitFor();
    await command(page, `/xmsg silence ${A} 30m`);
    await page.locator('#answer:not(.error)', { hasText: 'S-2: new alerts matching chain 971 are muted until' }).waitFor();
    const row = (id: string) => page.locator(`#silences tr[data-silence="${id}"]`);
    await row('S-1').waitFor();
    expect(await row('S-1').getAttribute('data-active')).toBe('no');
    expect(await row('S-1').locator('td').allTextContents()).toEqual([
      'S-1',
      'chain 972',
      expect.stringMatching(/^scheduled: \S+Z → \S+Z$/),
      'alice (console:alice)',
      'maintenance window',
    ]);
    await row('S-2').waitFor();
    expect(await row('S-2').getAttribute('data-active')).toBe('yes');
    // Scheduled after the one in effect: by start.
    expect(await page.locator('#silences tr[data-silence]').evaluateAll((els) => els.map((e) => e.getAttribute('data-silence')))).toEqual([
      'S-2',
      'S-1',
    ]);
    const state = (await (await fetch(`${x.baseUrl}/console/state`)).json()) as { silences: Array<{ id: string; from: number }> };
    expect(state.silences.map((s) => s.id)).toEqual(['S-2', 'S-1']);

    await command(page, '/xmsg unsilence S-1');
    await page.locator('#answer:not(.error)', { hasText: 'S-1 ended.' }).waitFor();
    await row('S-1').waitFor({ state: 'detached' });
    expect(await row('S-2').count()).toBe(1);
    expect(problemsOf(page)).toEqual([]);
  });

  it('answers bad requests with a clear JSON error and serves state and events', async () => {
    const x = await start();
    const post = (path: string, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
      fetch(`${x.baseUrl}${path}`, { method: 'POST', headers, body });
    const expectError = async (res: Response, status: number, text: string) => {
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toContain('application/json');
      expect(((await res.json()) as { error: string }).error).toContain(text);
    };

    const state = (await (await fetch(`${x.baseUrl}/console/state`)).json()) as {
      alerts: unknown[];
      chains: Array<{ chainId: number; latest: string; lag: string; healthy: boolean }>;
    };
    expect(state.alerts).toEqual([]);
    expect(state.chains.map((c) => c.chainId)).toEqual([A, B]);
    for (const c of state.chains) {
      expect(c.healthy).toBe(true);
      expect(Number(c.latest)).toBeGreaterThan(0);
      expect(Number(c.lag)).toBeGreaterThanOrEqual(0);
    }
    const page = await fetch(`${x.baseUrl}/`);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(await page.text()).toContain('<title>xmsg console</title>');

    const events = new AbortController();
    const stream = await fetch(`${x.baseUrl}/console/events`, { signal: events.signal });
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    const reader = stream.body!.getReader();
    let seen = '';
    while (!seen.includes('event: health')) seen += new TextDecoder().decode((await reader.read()).value);
    expect(seen).toMatch(/^retry: 2000\n\n/);
    expect(seen).toContain(`"chainId":${A}`);
    events.abort();

    await expectError(await post('/console/command', 'list', { 'content-type': 'text/plain' }), 415, 'content-type: application/json');
    await expectError(await post('/console/command', '{"name":'), 400, 'not valid JSON');
    await expectError(await post('/console/command', '[]'), 400, 'must be a JSON object');
    await expectError(await post('/console/command', JSON.stringify({ text: 'list' })), 400, 'name is required');
    await expectError(await post('/console/command', JSON.stringify({ name: '   ', text: 'list' })), 400, 'name is required');
    await expectError(await post('/console/command', JSON.stringify({ name: 'a\u0007b', text: 'list' })), 400, 'control characters');
    await expectError(await post('/console/command', JSON.stringify({ name: 'bob', text: 5 })), 400, 'text must be a string');
    await expectError(
      await post('/console/command', JSON.stringify({ name: 'bob', text: 'list', admin: true })),
      400,
      'unknown field(s): admin',
    );
    await expectError(
      await post('/console/command', JSON.stringify({ name: 'bob', text: 'x'.repeat(9000) })),
      413,
      'larger than 8192 bytes',
    );
    await expectError(
      await post('/console/button', JSON.stringify({ name: 'bob', alertId: 'XM-1', button: 'nuke' })),
      400,
      'button must be one of ack, escalate, silence_1h, resolve',
    );
    await expectError(
      await post('/console/button', JSON.stringify({ name: 'bob', alertId: '1; DROP', button: 'ack' })),
      400,
      'alertId must be an alert id like XM-42',
    );
    // Cross-site posts and requests for another host name (DNS rebinding) are refused.
    await expectError(
      await post('/console/command', JSON.stringify({ name: 'bob', text: 'ack XM-1' }), {
        'content-type': 'application/json',
        origin: 'http://evil.example',
      }),
      403,
      'cross-site',
    );
    const rebound = await rawGet(x.app.port, '/console/state', 'evil.example');
    expect(rebound.status).toBe(403);
    expect(rebound.body).toContain('answers only on localhost');

    const ok = await post('/console/command', JSON.stringify({ name: 'bob', text: '/xmsg help' }));
    expect(ok.status).toBe(200);
    expect((await ok.json()) as object).toMatchObject({ ok: true, text: expect.stringContaining('/xmsg silence') });
    const bad = await post('/console/command', JSON.stringify({ name: 'bob', text: '/xmsg ack nope' }));
    expect((await bad.json()) as object).toMatchObject({
      ok: false,
      text: expect.stringContaining('"nope" is not an alert id like XM-42'),
    });
    const unknown = await post('/console/button', JSON.stringify({ name: 'bob', alertId: 'XM-999', button: 'ack' }));
    expect((await unknown.json()) as object).toMatchObject({ ok: false, text: expect.stringContaining('No alert XM-999') });
  });

  it('keeps one reply per update when the outbox retries a delivery, with keys bounded by the retention', async () => {
    const x = await start();
    await invalidMessage();
    const alert = await waitFor('XM-1', () => x.app.alerts.store.get('XM-1'));
    // An alert id of its own, so the running outbox never writes these keys.
    const chat = new ConsoleAdapter(x.app.redis, world.prefix, 60);
    const ref = await chat.postRoot({ alert: { ...alert, id: 'XM-900' }, runbook: 'r', audit: [] });
    const update = { text: 'once', key: '7' } as ChatUpdate;
    await chat.reply(ref, update);
    await chat.reply(ref, update);
    await chat.reply(ref, { text: 'unkeyed' });
    const thread = (await chat.threads()).find((t) => t.alert.id === 'XM-900');
    expect(thread!.replies.map((r) => r.text)).toEqual(['once', 'unkeyed']);
    for (const key of [chat.keys.root('XM-900'), chat.keys.thread('XM-900'), chat.keys.replied('XM-900')]) {
      const ttl = await x.app.redis.ttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60);
    }
  });

  it('is off unless XMSG_CONSOLE is set, and rejects values other than 1/0', async () => {
    expect(parseEnv({ XMSG_L2_RPCS: 'http://127.0.0.1:1' }).XMSG_CONSOLE).toBe(false);
    expect(parseEnv({ XMSG_L2_RPCS: 'http://127.0.0.1:1', XMSG_CONSOLE: '1' }).XMSG_CONSOLE).toBe(true);
    expect(() => parseEnv({ XMSG_L2_RPCS: 'http://127.0.0.1:1', XMSG_CONSOLE: 'yes' })).toThrow(ConfigError);
    try {
      parseEnv({ XMSG_L2_RPCS: 'http://127.0.0.1:1', XMSG_CONSOLE: 'yes' });
    } catch (err) {
      expect((err as ConfigError).problems).toEqual(['XMSG_CONSOLE: must be 1 (on) or 0 (off)']);
    }
    const x = await start({ XMSG_CONSOLE: '0' });
    expect((await fetch(`${x.baseUrl}/`)).status).toBe(404);
    expect((await fetch(`${x.baseUrl}/console/state`)).status).toBe(404);
  });
});

/** A GET with a chosen Host header (fetch does not let a caller set it). */
function rawGet(port: number, path: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
