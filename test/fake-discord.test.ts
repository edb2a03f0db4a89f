import {
  type APIChannel,
  type APIMessage,
  Client,
  DiscordAPIError,
  Events,
  GatewayIntentBits,
  HTTPError,
  type Interaction,
  MessageFlags,
  REST,
  Routes,
} from 'discord.js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeDiscord, startFakeDiscord } from './fakes/discord/index.js';

const TOKEN = 'fake-bot-token.for-tests';
const ONCALL_ROLE = '1300000000000000001';
const ALICE = '1400000000000000001';

let fake: FakeDiscord;
let rest: REST;

beforeAll(async () => {
  fake = await startFakeDiscord({ token: TOKEN, roles: [{ id: ONCALL_ROLE, name: 'oncall' }], heartbeatIntervalMs: 300 });
});
afterAll(async () => {
  await fake?.stop();
});
beforeEach(() => {
  fake.reset();
  // What xmsg's Client builds: REST base from DISCORD_API_URL; @discordjs/rest adds /v10.
  rest = new REST({ api: fake.apiUrl }).setToken(TOKEN);
});

describe('fake Discord REST through the real @discordjs/rest client', () => {
  it('posts a message, starts its thread, replies there and edits the root', async () => {
    const root = (await rest.post(Routes.channelMessages(fake.channelId), {
      body: { content: `<@&${ONCALL_ROLE}> @everyone`, embeds: [{ title: 'XM-1' }], allowed_mentions: { parse: [], roles: [ONCALL_ROLE] } },
    })) as APIMessage;
    expect(root.channel_id).toBe(fake.channelId);
    const thread = (await rest.post(Routes.threads(fake.channelId, root.id), {
      body: { name: 'XM-1 alert', auto_archive_duration: 10080 },
    })) as APIChannel;
    expect(thread.id).toBe(root.id);
    await rest.post(Routes.channelMessages(thread.id), { body: { content: 'Acknowledged by alice.' } });
    await rest.patch(Routes.channelMessage(fake.channelId, root.id), { body: { embeds: [{ title: 'XM-1 acked' }] } });

    const [stored] = fake.channelMessages();
    expect(stored!.pinged).toEqual({ roles: [ONCALL_ROLE], users: [], everyone: false });
    expect(stored!.embeds).toEqual([{ title: 'XM-1 acked' }]);
    expect(stored!.edits).toHaveLength(1);
    expect(fake.threadMessages(root.id).map((m) => m.content)).toEqual(['Acknowledged by alice.']);
    expect(fake.calls.every((c) => c.authorization === `Bot ${TOKEN}`)).toBe(true);
    expect(fake.calls[0]!.userAgent).toMatch(/^DiscordBot/);
  });

  it('answers like Discord: 401 for a bad token, 10003, 160004 and 50035 for bad requests', async () => {
    const bad = new REST({ api: fake.apiUrl }).setToken('wrong');
    await expect(bad.post(Routes.channelMessages(fake.channelId), { body: { content: 'x' } })).rejects.toMatchObject({ status: 401 });
    await expect(rest.post(Routes.channelMessages('1'), { body: { content: 'x' } })).rejects.toMatchObject({ status: 404, code: 10003 });
    const root = (await rest.post(Routes.channelMessages(fake.channelId), { body: { content: 'x' } })) as APIMessage;
    await rest.post(Routes.threads(fake.channelId, root.id), { body: { name: 't' } });
    await expect(rest.post(Routes.threads(fake.channelId, root.id), { body: { name: 't' } })).rejects.toMatchObject({ code: 160004 });
    const tooMany = {
      type: 1,
      components: Array.from({ length: 6 }, (_, i) => ({ type: 2, style: 1, label: `b${i}`, custom_id: `b${i}` })),
    };
    const err = await rest
      .post(Routes.channelMessages(fake.channelId), { body: { content: 'x', components: [tooMany] } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DiscordAPIError);
    expect(err).toMatchObject({ status: 400, code: 50035 });
    expect((err as DiscordAPIError).message).toContain('components[0].components');
    await expect(
      rest.post(Routes.channelMessages(fake.channelId), {
        body: { content: 'x', allowed_mentions: { parse: ['roles'], roles: [ONCALL_ROLE] } },
      }),
    ).rejects.toMatchObject({
      code: 50035,
    });
  });

  it('answers as Discord does after a moderator deletes a root, deletes a thread, archives or locks one', async () => {
    const post = async (content: string) => (await rest.post(Routes.channelMessages(fake.channelId), { body: { content } })) as APIMessage;
    const thread = async (root: APIMessage) =>
      (await rest.post(Routes.threads(fake.channelId, root.id), { body: { name: 't' } })) as APIChannel;
    const say = (channel: string) => rest.post(Routes.channelMessages(channel), { body: { content: 'Acknowledged by alice.' } });

    // A deleted starter message: Unknown Message for it, its thread lives on.
    const one = await post('XM-1');
    await thread(one);
    fake.deleteMessage(fake.channelId, one.id);
    await expect(rest.patch(Routes.channelMessage(fake.channelId, one.id), { body: { content: 'x' } })).rejects.toMatchObject({
      status: 404,
      code: 10008,
    });
    await say(one.id);
    expect(fake.threadMessages(one.id)).toHaveLength(1);
    // A deleted thread: Unknown Channel to post in it.
    const two = await post('XM-2');
    await thread(two);
    fake.deleteThread(two.id);
    await expect(say(two.id)).rejects.toMatchObject({ status: 404, code: 10003 });
    // Archived, locked.
    const three = await post('XM-3');
    await thread(three);
    fake.setThreadState(three.id, { archived: true });
    await expect(say(three.id)).rejects.toMatchObject({ status: 400, code: 50083 });
    fake.setThreadState(three.id, { archived: false, locked: true });
    await expect(say(three.id)).rejects.toMatchObject({ status: 403, code: 160005 });
  });

  it('answers 429 with retry_after and the rate-limit headers, and the REST client waits it out', async () => {
    fake.failNext('createMessage', 1, { status: 429, retryAfter: 1 });
    const rateLimited: unknown[] = [];
    rest.on('rateLimited', (info) => rateLimited.push(info));
    const t0 = Date.now();
    await rest.post(Routes.channelMessages(fake.channelId), { body: { content: 'after the limit' } });
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(1000);
    expect(elapsed).toBeLessThan(3000);
    expect(fake.faultedCalls).toHaveLength(1);
    expect(fake.callsOf('createMessage')).toHaveLength(1);
    expect(fake.callsOf('createMessage')[0]!.at - fake.faultedCalls[0]!.at).toBeGreaterThanOrEqual(1000);
    expect(fake.channelMessages().map((m) => m.content)).toEqual(['after the limit']);
    expect(rateLimited).toMatchObject([{ scope: 'user', global: false, method: 'POST' }]);
    expect((rateLimited[0] as { retryAfter: number }).retryAfter).toBeGreaterThanOrEqual(1000);

    // The raw answer, as Discord sends it.
    fake.failNext('createMessage', 1, { status: 429, retryAfter: 2.5, scope: 'shared' });
    const res = await fetch(`${fake.apiUrl}/v10/channels/${fake.channelId}/messages`, {
      method: 'POST',
      headers: { authorization: `Bot ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'x' }),
    });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('3');
    expect(res.headers.get('x-ratelimit-scope')).toBe('shared');
    expect(res.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(await res.json()).toEqual({ message: 'You are being rate limited.', retry_after: 2.5, global: false });
  });

  it('answers 5xx on demand: the client retries 3 times, then gives up with HTTPError', async () => {
    fake.failNext('editMessage', 2, { status: 502 });
    const root = (await rest.post(Routes.channelMessages(fake.channelId), { body: { content: 'x' } })) as APIMessage;
    await rest.patch(Routes.channelMessage(fake.channelId, root.id), { body: { content: 'y' } });
    expect(fake.channelMessages()[0]!.content).toBe('y');
    fake.failNext('editMessage', 4, { status: 503 });
    await expect(rest.patch(Routes.channelMessage(fake.channelId, root.id), { body: { content: 'z' } })).rejects.toBeInstanceOf(HTTPError);
    expect(fake.faultedCalls).toHaveLength(6);
    expect(fake.channelMessages()[0]!.content).toBe('y');
  });

  it('keeps enforce_nonce: a repeated create with the same nonce returns the first message', async () => {
    const a = (await rest.post(Routes.channelMessages(fake.channelId), {
      body: { content: 'once', nonce: 'XM-1-0', enforce_nonce: true },
    })) as APIMessage;
    const b = (await rest.post(Routes.channelMessages(fake.channelId), {
      body: { content: 'once', nonce: 'XM-1-0', enforce_nonce: true },
    })) as APIMessage;
    expect(b.id).toBe(a.id);
    expect(fake.channelMessages()).toHaveLength(1);
  });
});

describe('fake Discord gateway with the real discord.js Client', () => {
  let client: Client;
  const interactions: Interaction[] = [];

  beforeAll(async () => {
    client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: fake.apiUrl } });
    client.on(Events.InteractionCreate, (i) => void interactions.push(i));
    const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
    await client.login(TOKEN);
    await ready;
  });
  afterAll(async () => {
    await client?.destroy();
  });
  afterEach(() => {
    interactions.length = 0;
  });

  it('connects through GET /gateway/bot: HELLO, IDENTIFY, READY, GUILD_CREATE, heartbeats acknowledged', async () => {
    expect(client.isReady()).toBe(true);
    expect(client.user?.id).toBe(fake.applicationId);
    expect(client.application?.id).toBe(fake.applicationId);
    const guild = client.guilds.cache.get(fake.guildId);
    expect(guild?.roles.cache.get(ONCALL_ROLE)?.name).toBe('oncall');
    expect(guild?.channels.cache.get(fake.channelId)?.name).toBe('alerts');
    const conn = fake.connections.at(-1)!;
    expect(conn.query).toEqual({ v: '10', encoding: 'json' });
    expect(conn.identified).toBe(true);
    await new Promise<void>((resolve) => {
      const check = () => (fake.connections.at(-1)!.heartbeats >= 2 && client.ws.ping >= 0 ? resolve() : setTimeout(check, 50));
      check();
    });
  });

  it('delivers a slash command with its options and member roles, and records the ephemeral reply', async () => {
    const sent = fake.slashCommand({ userId: ALICE, username: 'alice', roles: [ONCALL_ROLE], subcommand: 'ack', options: { id: 'XM-7' } });
    const i = await waitForInteraction();
    if (!i.isChatInputCommand()) throw new Error('not a chat input command');
    expect(i.commandName).toBe('xmsg');
    expect(i.options.getSubcommand()).toBe('ack');
    expect(i.options.getString('id')).toBe('XM-7');
    expect(i.user.username).toBe('alice');
    expect(i.guildId).toBe(fake.guildId);
    expect(i.channelId).toBe(fake.channelId);
    expect(i.inCachedGuild() && [...i.member.roles.cache.keys()]).toContain(ONCALL_ROLE);
    await i.reply({ content: 'done', flags: MessageFlags.Ephemeral });
    expect(await fake.answer(sent.id)).toMatchObject({ content: 'done', ephemeral: true, how: 'reply' });
  });

  it('delivers a button press on a stored message; deferral then edit of @original; a second callback is refused', async () => {
    const root = (await rest.post(Routes.channelMessages(fake.channelId), {
      body: {
        content: 'alert',
        components: [{ type: 1, components: [{ type: 2, style: 1, label: 'Acknowledge', custom_id: 'xmsg|ack|XM-1' }] }],
      },
    })) as APIMessage;
    const sent = fake.pressButton({
      userId: ALICE,
      username: 'alice',
      customId: 'xmsg|ack|XM-1',
      message: fake.channelMessages().find((m) => m.id === root.id)!,
    });
    const i = await waitForInteraction();
    if (!i.isButton()) throw new Error('not a button');
    expect(i.customId).toBe('xmsg|ack|XM-1');
    expect(i.message.id).toBe(root.id);
    await i.deferReply({ flags: MessageFlags.Ephemeral });
    await i.editReply({ content: 'later' });
    expect(await fake.answer(sent.id)).toMatchObject({ content: 'later', ephemeral: true, how: 'deferred' });
    await expect(
      rest.post(Routes.interactionCallback(sent.id, sent.token), { body: { type: 4, data: { content: 'again' } }, auth: false }),
    ).rejects.toMatchObject({ code: 40060 });
  });

  it('refuses a callback after the 3 s deadline with 10062 Unknown interaction', async () => {
    const late = await startFakeDiscord({ token: TOKEN, interactionDeadlineMs: 50 });
    try {
      const lateRest = new REST({ api: late.apiUrl }).setToken(TOKEN);
      // Registered but delivered to nobody: only the callback deadline matters here.
      const sent = late.slashCommand({ userId: ALICE, subcommand: 'help' });
      await new Promise((r) => setTimeout(r, 100));
      await expect(
        lateRest.post(Routes.interactionCallback(sent.id, sent.token), { body: { type: 4, data: { content: 'x' } }, auth: false }),
      ).rejects.toMatchObject({
        status: 404,
        code: 10062,
      });
    } finally {
      await late.stop();
    }
  });

  it('resumes after op 7 and after a dropped connection, replaying what was dispatched meanwhile, once', async () => {
    const before = fake.connections.length;
    fake.reconnectClients('op7');
    await waitUntil(() => fake.connections.length > before && fake.connections.at(-1)!.resumed);
    expect(fake.connections.at(-1)!.path).toBe('/resume');

    const resumedBefore = fake.connections.length;
    fake.reconnectClients('drop');
    // Dispatched while the client is away: delivered when it resumes.
    const sent = fake.slashCommand({ userId: ALICE, subcommand: 'help' });
    await waitUntil(() => fake.connections.length > resumedBefore && fake.connections.at(-1)!.resumed, 10_000);
    await waitUntil(() => interactions.length > 0);
    await new Promise((r) => setTimeout(r, 300));
    expect(interactions.map((x) => x.id)).toEqual([sent.id]);
    expect(fake.connections.filter((c) => c.identified)).toHaveLength(1);
  });

  async function waitForInteraction(): Promise<Interaction> {
    await waitUntil(() => interactions.length > 0);
    return interactions.shift()!;
  }
});

async function waitUntil(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
