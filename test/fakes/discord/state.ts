/**
 * What the loopback Discord knows: one guild with roles, members and a text channel, the messages and threads
 * posted in it, interactions it delivered and how they were answered, and the registered application commands.
 */

/** Discord's epoch (2015-01-01) for snowflakes, as discord.js reads them back into timestamps. */
const DISCORD_EPOCH = 1_420_070_400_000n;
let increment = 0n;

/** A real-looking snowflake: milliseconds since the Discord epoch, then worker/process bits and an increment. */
export function snowflake(at = Date.now()): string {
  increment = (increment + 1n) & 0xfffn;
  return String(((BigInt(at) - DISCORD_EPOCH) << 22n) | (1n << 17n) | increment);
}

export interface FakeUser {
  id: string;
  username: string;
  global_name: string | null;
  discriminator: string;
  avatar: string | null;
  bot?: boolean;
  public_flags?: number;
}

export interface FakeRole {
  id: string;
  name: string;
}

export interface FakeMember {
  user: FakeUser;
  roles: string[];
}

/** Who a message actually pinged, as Discord computes it from content and allowed_mentions. */
export interface Pinged {
  roles: string[];
  users: string[];
  everyone: boolean;
}

export interface Edit {
  at: number;
  body: Record<string, unknown>;
}

/** A stored message: the API object Discord returns, plus what the fake observed about it. */
export interface FakeMessage {
  id: string;
  channel_id: string;
  guild_id?: string;
  author: FakeUser;
  content: string;
  embeds: Array<Record<string, unknown>>;
  components: Array<Record<string, unknown>>;
  mention_roles: string[];
  mention_everyone: boolean;
  mentions: FakeUser[];
  attachments: unknown[];
  timestamp: string;
  edited_timestamp: string | null;
  flags: number;
  tts: boolean;
  pinned: boolean;
  type: number;
  nonce?: string | number;
  /** The thread started from this message (its id equals the message id, as on Discord). */
  thread?: FakeThread;
  /** Fake-only: who was pinged, the allowed_mentions sent, and every edit. */
  pinged: Pinged;
  allowedMentions?: unknown;
  edits: Edit[];
}

/** A default (type 0) text message as Discord stores it, nobody pinged, never edited; `fields` say the rest. */
export function textMessage(fields: Pick<FakeMessage, 'id' | 'channel_id' | 'author' | 'content'> & Partial<FakeMessage>): FakeMessage {
  return {
    embeds: [],
    components: [],
    mention_roles: [],
    mention_everyone: false,
    mentions: [],
    attachments: [],
    timestamp: new Date().toISOString(),
    edited_timestamp: null,
    flags: 0,
    tts: false,
    pinned: false,
    type: 0,
    pinged: { roles: [], users: [], everyone: false },
    edits: [],
    ...fields,
  };
}

export interface FakeThread {
  id: string;
  type: 11;
  guild_id: string;
  parent_id: string;
  name: string;
  owner_id: string;
  message_count: number;
  member_count: number;
  rate_limit_per_user: number;
  flags: number;
  thread_metadata: {
    archived: boolean;
    auto_archive_duration: number;
    archive_timestamp: string;
    locked: boolean;
    create_timestamp: string;
  };
  total_message_sent: number;
}

/** How an interaction was answered: the callback, then edits of `@original` and follow-ups. */
export interface InteractionRecord {
  id: string;
  token: string;
  applicationId: string;
  /** `gateway` or `http`: how the fake delivered it. */
  via: 'gateway' | 'http';
  createdAt: number;
  payload: Record<string, unknown>;
  callback?: { at: number; type: number; data?: Record<string, unknown> };
  /** The message the callback or a later `@original` edit produced; `flags` 64 = ephemeral. */
  original?: { content: string; flags: number; embeds: unknown[]; components: unknown[]; allowedMentions?: unknown; edits: Edit[] };
  followUps: Array<{ id: string; at: number; content: string; flags: number }>;
}

export const EPHEMERAL = 64;

export interface RegisteredCommand {
  id: string;
  application_id: string;
  guild_id?: string;
  version: string;
  name: string;
  description: string;
  type: number;
  options?: unknown[];
  [key: string]: unknown;
}

export interface GuildOptions {
  guildId?: string;
  channelId?: string;
  roles?: FakeRole[];
  members?: FakeMember[];
}

export class DiscordState {
  readonly guildId: string;
  readonly channelId: string;
  readonly bot: FakeUser;
  roles: FakeRole[];
  readonly members = new Map<string, FakeMember>();
  /** Channel (or thread) id → its messages in posting order. */
  readonly messages = new Map<string, FakeMessage[]>();
  readonly threads = new Map<string, FakeThread>();
  readonly interactions = new Map<string, InteractionRecord>();
  /** `global` or a guild id → registered commands. */
  readonly commands = new Map<string, RegisteredCommand[]>();
  readonly nonces = new Map<string, FakeMessage>();

  constructor(
    readonly applicationId: string,
    private readonly options: GuildOptions,
  ) {
    this.guildId = options.guildId ?? snowflake();
    this.channelId = options.channelId ?? snowflake();
    this.bot = { id: applicationId, username: 'xmsg', global_name: null, discriminator: '0000', avatar: null, bot: true, public_flags: 0 };
    this.roles = options.roles ?? [];
    this.reset();
  }

  reset(): void {
    this.members.clear();
    for (const m of this.options.members ?? []) this.members.set(m.user.id, structuredClone(m));
    this.messages.clear();
    this.messages.set(this.channelId, []);
    this.threads.clear();
    this.interactions.clear();
    this.commands.clear();
    this.nonces.clear();
  }

  /** A member by id, created (without roles) the first time someone new acts. */
  member(userId: string, username?: string, roles?: string[]): FakeMember {
    let m = this.members.get(userId);
    if (!m) {
      const name = username ?? `user${userId.slice(-4)}`;
      m = { user: { id: userId, username: name, global_name: name, discriminator: '0', avatar: null, public_flags: 0 }, roles: [] };
      this.members.set(userId, m);
    } else if (username) {
      m.user = { ...m.user, username, global_name: username };
    }
    if (roles) m.roles = [...roles];
    return m;
  }

  /** The guild as GUILD_CREATE carries it (the parts discord.js reads). */
  guildObject(): Record<string, unknown> {
    const everyone = {
      id: this.guildId,
      name: '@everyone',
      color: 0,
      hoist: false,
      position: 0,
      permissions: '1071698660929',
      managed: false,
      mentionable: false,
      flags: 0,
    };
    const now = new Date().toISOString();
    return {
      id: this.guildId,
      name: 'xmsg test server',
      icon: null,
      owner_id: [...this.members.keys()][0] ?? this.bot.id,
      afk_channel_id: null,
      afk_timeout: 300,
      verification_level: 0,
      default_message_notifications: 1,
      explicit_content_filter: 0,
      roles: [
        everyone,
        ...this.roles.map((r, i) => ({
          id: r.id,
          name: r.name,
          color: 0,
          hoist: false,
          position: i + 1,
          permissions: '0',
          managed: false,
          mentionable: true,
          flags: 0,
        })),
      ],
      emojis: [],
      stickers: [],
      features: [],
      mfa_level: 0,
      system_channel_id: null,
      rules_channel_id: null,
      max_members: 500000,
      vanity_url_code: null,
      premium_tier: 0,
      preferred_locale: 'en-US',
      nsfw_level: 0,
      premium_progress_bar_enabled: false,
      joined_at: now,
      large: false,
      unavailable: false,
      member_count: this.members.size + 1,
      voice_states: [],
      members: [{ user: this.bot, roles: [], joined_at: now, deaf: false, mute: false, flags: 0 }],
      channels: [
        {
          id: this.channelId,
          type: 0,
          guild_id: this.guildId,
          name: 'alerts',
          position: 0,
          permission_overwrites: [],
          topic: null,
          nsfw: false,
          last_message_id: null,
          rate_limit_per_user: 0,
          parent_id: null,
        },
      ],
      threads: [...this.threads.values()],
      presences: [],
      stage_instances: [],
      guild_scheduled_events: [],
      soundboard_sounds: [],
    };
  }

  channelExists(id: string): boolean {
    return this.messages.has(id);
  }

  findMessage(channelId: string, messageId: string): FakeMessage | undefined {
    return this.messages.get(channelId)?.find((m) => m.id === messageId);
  }
}
