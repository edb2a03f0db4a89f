import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import {
  type APIInteraction,
  type APIInteractionGuildMember,
  type Client,
  Events,
  type GuildMember,
  InteractionResponseType,
  InteractionType,
  MessageFlags,
  type REST,
  Routes,
} from 'discord.js';
import type { Logger } from 'pino';
import { commandLine } from '../../../commands/grammar.js';
import { type CommandDeps, type CommandReply, ROOT_BUTTONS, type RootButton, runButton, runCommand } from '../../../commands/handlers.js';
import type { Actor } from '../../alerts/chat-port.js';
import { type HttpServer, sendJson } from '../../http/server.js';
import { answerOrDefer, withFailureReply } from '../answer.js';
import { type ReplayGuard, SIGNATURE_WINDOW_S } from '../replay.js';
import { truncate } from '../text.js';
import { parseButtonId } from './render.js';

export interface DiscordPermissions {
  oncallRoleId?: string;
  /** DISCORD_ESCALATION_ROLE_ID: its holders are paged from level 3, so they may act on alerts too. */
  escalationRoleId?: string;
  adminRoleIds: string[];
  /** DISCORD_GUILD_ID: when set, interactions from any other server are refused. */
  guildId?: string;
}

/**
 * Why an interaction is not served, or undefined when it is: xmsg answers in a server (guild) only, and in its own
 * when DISCORD_GUILD_ID is set. A DM or another server would otherwise read alerts and audit trails, and the roles
 * checked for acting are those of whatever server the interaction came from.
 */
export function refusalFor(guildId: string | null | undefined, permissions: DiscordPermissions): string | undefined {
  if (!guildId) return 'xmsg answers only in its Discord server, not in direct messages.';
  if (permissions.guildId !== undefined && guildId !== permissions.guildId)
    return 'xmsg does not answer in this server: it serves only the server it is set up for.';
  return undefined;
}

const NO_MENTIONS = { parse: [] as [] };

/** What the user asked, as a reply to compute; the same for gateway and HTTP interactions. */
type Ask = { kind: 'command'; line: string } | { kind: 'button'; customId: string };

/** Holders of the on-call, escalation or an admin role may act: whoever is paged can stop the pages. */
function actorOf(userId: string, name: string, roles: readonly string[], p: DiscordPermissions): Actor {
  const base = { platform: 'discord', userId, name };
  const allowed = [p.oncallRoleId, p.escalationRoleId, ...p.adminRoleIds].filter((r): r is string => !!r);
  if (roles.some((r) => allowed.includes(r))) return { ...base, canAct: true };
  const admitting = admittingRoles(p);
  return {
    ...base,
    canAct: false,
    refusal: admitting.length
      ? notHolding(admitting)
      : 'no DISCORD_ONCALL_ROLE_ID, DISCORD_ESCALATION_ROLE_ID or DISCORD_ADMIN_ROLE_IDS is configured',
  };
}

/** The roles that would admit someone, as a refusal names them. */
function admittingRoles(p: DiscordPermissions): string[] {
  return [
    ...(p.oncallRoleId ? ['the on-call role'] : []),
    ...(p.escalationRoleId && p.escalationRoleId !== p.oncallRoleId ? ['the escalation role'] : []),
    ...(p.adminRoleIds.length ? ['an admin role'] : []),
  ];
}

function notHolding(roles: string[]): string {
  if (roles.length === 1) return `you do not hold ${roles[0]}`;
  if (roles.length === 2) return `you hold neither ${roles[0]} nor ${roles[1]}`;
  return `you hold none of ${roles.slice(0, -1).join(', ')} or ${roles.at(-1)}`;
}

function answer(ask: Ask, actor: Actor, deps: CommandDeps, log: Logger): Promise<CommandReply> {
  const run = async (): Promise<CommandReply> => {
    if (ask.kind === 'command') return runCommand(ask.line, actor, deps);
    const parsed = parseButtonId(ask.customId);
    if (!parsed || !ROOT_BUTTONS.includes(parsed.button as RootButton)) return { ok: false, text: 'This button does not name an alert.' };
    return runButton(parsed.button as RootButton, parsed.alertId, actor, deps, parsed.deployment);
  };
  return withFailureReply(run(), log, 'discord interaction failed');
}

/** Discord's limit for a message's content. */
const content = (r: CommandReply) => truncate(r.text, 2000);

/** `/xmsg` and the alert buttons arriving over the gateway (the standard discord.js Client). */
export function handleGatewayInteractions(client: Client, permissions: DiscordPermissions, deps: CommandDeps, log: Logger): void {
  client.on(Events.InteractionCreate, async (interaction) => {
    try {
      let ask: Ask;
      if (interaction.isChatInputCommand() && interaction.commandName === 'xmsg') {
        const sub = interaction.options.getSubcommand(false) ?? 'help';
        const options = Object.fromEntries((interaction.options.data[0]?.options ?? []).map((o) => [o.name, String(o.value ?? '')]));
        ask = { kind: 'command', line: commandLine(sub, options) };
      } else if (interaction.isButton()) {
        ask = { kind: 'button', customId: interaction.customId };
      } else {
        return;
      }
      const refusal = refusalFor(interaction.guildId, permissions);
      if (refusal) {
        await interaction.reply({ content: refusal, flags: MessageFlags.Ephemeral, allowedMentions: NO_MENTIONS });
        return;
      }
      const actor = actorOf(interaction.user.id, interaction.user.username, rolesOf(interaction.member), permissions);
      // Discord drops an interaction not answered within 3 s; slower work is deferred and answered by an edit.
      await answerOrDefer(answer(ask, actor, deps, log), {
        now: async (reply) => {
          await interaction.reply({ content: content(reply), flags: MessageFlags.Ephemeral, allowedMentions: NO_MENTIONS });
        },
        defer: async () => {
          await interaction.deferReply({ flags: MessageFlags.Ephemeral });
        },
        later: async (reply) => {
          await interaction.editReply({ content: content(reply), allowedMentions: NO_MENTIONS });
        },
      });
    } catch (err) {
      log.error({ err }, 'could not answer a discord interaction');
    }
  });
}

function rolesOf(member: GuildMember | APIInteractionGuildMember | null): string[] {
  if (!member) return [];
  return Array.isArray(member.roles) ? member.roles : [...(member as GuildMember).roles.cache.keys()];
}

export interface DiscordHttpInteractions {
  /** DISCORD_PUBLIC_KEY: the hex Ed25519 key requests are signed with. */
  publicKeyHex: string;
  applicationId: string;
  /** The bot's REST client, for deferred answers (webhook edits, which need no token). */
  rest: REST;
  permissions: DiscordPermissions;
  commands: CommandDeps;
  log: Logger;
  /** Refuses a signature seen before (a replay within the 5-minute window), on every replica. */
  replay: ReplayGuard;
}

/**
 * The optional HTTP interactions endpoint (DISCORD_PUBLIC_KEY set): Ed25519 over timestamp + raw body, checked
 * before the body is parsed (the HTTP server has already refused one over 64 KiB), PING → PONG; 401 for anything
 * not signed by Discord, signed more than 5 minutes off, or already received (a replay).
 */
export function mountDiscordHttpInteractions(http: HttpServer, endpoint: DiscordHttpInteractions): void {
  const { applicationId, rest, permissions, commands, log, replay } = endpoint;
  const key = discordPublicKey(endpoint.publicKeyHex);
  http.route('POST', '/discord/interactions', async (req, res, _params, body) => {
    const signature = String(req.headers['x-signature-ed25519'] ?? '');
    const timestamp = String(req.headers['x-signature-timestamp'] ?? '');
    if (!verifySignature(key, signature, timestamp, body)) {
      sendJson(res, 401, { error: 'invalid request signature' });
      return;
    }
    if (!(await replay.firstSeen(signature, Number(timestamp)))) {
      sendJson(res, 401, { error: 'request already received (a replay)' });
      return;
    }
    let interaction: APIInteraction;
    try {
      interaction = JSON.parse(body.toString('utf8')) as APIInteraction;
    } catch {
      sendJson(res, 400, { error: 'body is not JSON' });
      return;
    }
    if (interaction.type === InteractionType.Ping) {
      sendJson(res, 200, { type: InteractionResponseType.Pong });
      return;
    }
    const ask = askOf(interaction);
    if (!ask) {
      sendJson(res, 400, { error: 'unsupported interaction' });
      return;
    }
    const refusal = refusalFor(interaction.guild_id, permissions);
    if (refusal) {
      sendJson(res, 200, {
        type: InteractionResponseType.ChannelMessageWithSource,
        data: { content: refusal, flags: MessageFlags.Ephemeral, allowed_mentions: NO_MENTIONS },
      });
      return;
    }
    const user = interaction.member?.user ?? interaction.user;
    const actor = actorOf(user?.id ?? 'unknown', user?.username ?? 'unknown', interaction.member?.roles ?? [], permissions);
    await answerOrDefer(answer(ask, actor, commands, log), {
      now: (reply) =>
        sendJson(res, 200, {
          type: InteractionResponseType.ChannelMessageWithSource,
          data: { content: content(reply), flags: MessageFlags.Ephemeral, allowed_mentions: NO_MENTIONS },
        }),
      defer: () =>
        sendJson(res, 200, { type: InteractionResponseType.DeferredChannelMessageWithSource, data: { flags: MessageFlags.Ephemeral } }),
      later: async (reply) => {
        await rest
          .patch(Routes.webhookMessage(applicationId, interaction.token), {
            body: { content: content(reply), allowed_mentions: NO_MENTIONS },
            auth: false,
          })
          .catch((err: unknown) => log.error({ err }, 'could not send the deferred discord answer'));
      },
    });
  });
}

/** A slash command or a button press of an HTTP interaction; undefined for anything else. */
function askOf(interaction: APIInteraction): Ask | undefined {
  if (interaction.type === InteractionType.ApplicationCommand && interaction.data.name === 'xmsg' && 'options' in interaction.data) {
    const sub = interaction.data.options?.[0];
    const options = Object.fromEntries(
      (sub && 'options' in sub ? (sub.options ?? []) : []).map((o) => [o.name, 'value' in o ? String(o.value) : '']),
    );
    return { kind: 'command', line: commandLine(sub?.name ?? 'help', options) };
  }
  if (interaction.type === InteractionType.MessageComponent) return { kind: 'button', customId: interaction.data.custom_id };
  return undefined;
}

/** Discord shows the public key as 32 raw bytes in hex; node wants it wrapped as an SPKI DER key. */
export function discordPublicKey(hex: string): KeyObject {
  const raw = Buffer.from(hex, 'hex');
  if (raw.length !== 32) throw new Error('DISCORD_PUBLIC_KEY must be 64 hex characters');
  return createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw]), format: 'der', type: 'spki' });
}

function verifySignature(key: KeyObject, signatureHex: string, timestamp: string, body: Buffer): boolean {
  if (!/^[0-9a-f]{128}$/i.test(signatureHex) || !/^\d{1,12}$/.test(timestamp)) return false;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > SIGNATURE_WINDOW_S) return false;
  try {
    return verify(null, Buffer.concat([Buffer.from(timestamp, 'utf8'), body]), key, Buffer.from(signatureHex, 'hex'));
  } catch {
    return false;
  }
}
