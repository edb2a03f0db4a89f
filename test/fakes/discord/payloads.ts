/**
 * Interaction payloads as Discord sends them (API v10), over the gateway (INTERACTION_CREATE's `d`) or to an
 * HTTP interactions endpoint (the request body): the same object either way.
 */
import { randomBytes } from 'node:crypto';
import { type DiscordState, type FakeMessage, snowflake } from './state.js';

export interface Presser {
  userId: string;
  username?: string;
  /** The member's role ids in the guild; replaces what the fake knew about them. Default: what it knew (none). */
  roles?: string[];
  /**
   * Where the interaction happens: the fake's guild and channel by default, a DM with the bot, or a channel of
   * another guild the bot is in (with the same member and roles there).
   */
  from?: { dm: true } | { guildId: string };
}

export interface SlashCommandInput extends Presser {
  /** Sub-command of `/xmsg` (`help`, `ack`, ...); omit for a bare `/xmsg`. */
  subcommand?: string;
  /** String options of the sub-command, in the order given. */
  options?: Record<string, string>;
  /** Command name, default `xmsg`. */
  command?: string;
}

export interface ButtonInput extends Presser {
  customId: string;
  /** The message carrying the button (as stored by the fake). */
  message: FakeMessage;
}

const APP_PERMISSIONS = '2248473465835073';
const MEMBER_PERMISSIONS = '2248473465835073';

function token(): string {
  return `aW50ZXJhY3Rpb246${randomBytes(48).toString('base64url')}`;
}

function common(state: DiscordState, p: Presser) {
  const inGuild = guildCommon(state, p);
  if (p.from && 'dm' in p.from) {
    // A DM with the bot (context BOT_DM): no guild, no member, the user at the top level.
    const { guild_id: _g, guild: _guild, member, channel_id: _c, channel: _ch, guild_locale: _l, ...rest } = inGuild;
    const dmChannel = snowflake();
    return {
      ...rest,
      user: member.user,
      channel_id: dmChannel,
      channel: { id: dmChannel, type: 1, flags: 0, last_message_id: null, recipients: [member.user] },
      authorizing_integration_owners: { '0': state.guildId },
      context: 1,
    };
  }
  if (p.from && 'guildId' in p.from) {
    const guildId = p.from.guildId;
    const channelId = snowflake();
    return {
      ...inGuild,
      guild_id: guildId,
      guild: { id: guildId, locale: 'en-US', features: [] },
      channel_id: channelId,
      channel: { ...inGuild.channel, id: channelId, guild_id: guildId },
      authorizing_integration_owners: { '0': guildId },
    };
  }
  return inGuild;
}

function guildCommon(state: DiscordState, p: Presser) {
  const m = state.member(p.userId, p.username, p.roles);
  const now = new Date().toISOString();
  return {
    id: snowflake(),
    application_id: state.applicationId,
    token: token(),
    version: 1,
    guild_id: state.guildId,
    guild: { id: state.guildId, locale: 'en-US', features: [] },
    channel_id: state.channelId,
    channel: {
      id: state.channelId,
      type: 0,
      guild_id: state.guildId,
      name: 'alerts',
      flags: 0,
      last_message_id: null,
      nsfw: false,
      parent_id: null,
      permissions: MEMBER_PERMISSIONS,
      position: 0,
      rate_limit_per_user: 0,
      topic: null,
    },
    member: {
      user: m.user,
      roles: [...m.roles],
      nick: null,
      avatar: null,
      joined_at: now,
      premium_since: null,
      deaf: false,
      mute: false,
      flags: 0,
      pending: false,
      permissions: MEMBER_PERMISSIONS,
      communication_disabled_until: null,
      unusual_dm_activity_until: null,
    },
    app_permissions: APP_PERMISSIONS,
    locale: 'en-US',
    guild_locale: 'en-US',
    entitlements: [],
    entitlement_sku_ids: [],
    authorizing_integration_owners: { '0': state.guildId },
    context: 0,
    attachment_size_limit: 10485760,
  };
}

/** A CHAT_INPUT application command (type 2) for `/xmsg <subcommand> [options]`. */
export function slashCommandPayload(state: DiscordState, input: SlashCommandInput): Record<string, unknown> {
  const name = input.command ?? 'xmsg';
  const registered = [...state.commands.values()].flat().find((c) => c.name === name);
  const options = Object.entries(input.options ?? {}).map(([n, value]) => ({ type: 3, name: n, value }));
  return {
    ...common(state, input),
    type: 2,
    data: {
      id: registered?.id ?? snowflake(),
      name,
      type: 1,
      ...(input.from ? {} : { guild_id: state.guildId }),
      ...(input.subcommand ? { options: [{ type: 1, name: input.subcommand, options }] } : options.length ? { options } : {}),
    },
  };
}

/** A button press (MESSAGE_COMPONENT, type 3) on a message the bot posted. */
export function buttonPayload(state: DiscordState, input: ButtonInput): Record<string, unknown> {
  const { thread: _thread, pinged: _pinged, allowedMentions: _am, edits: _edits, ...message } = input.message;
  return {
    ...common(state, input),
    type: 3,
    message,
    data: { custom_id: input.customId, component_type: 2 },
  };
}

/** PING (type 1), which Discord sends to check an HTTP interactions endpoint. */
export function pingPayload(state: DiscordState): Record<string, unknown> {
  return {
    id: snowflake(),
    application_id: state.applicationId,
    type: 1,
    token: token(),
    version: 1,
    user: { id: '0', username: 'discord', discriminator: '0000', avatar: null },
  };
}
