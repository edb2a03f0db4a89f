import { Client, GatewayIntentBits } from 'discord.js';
import type { ChatPlatform, PlatformDeps } from '../platform.js';
import { ReplayGuard } from '../replay.js';
import { DiscordAdapter } from './adapter.js';
import { type DiscordPermissions, handleGatewayInteractions, mountDiscordHttpInteractions } from './interactions.js';

/** Discord, on when DISCORD_BOT_TOKEN is set. */
export interface DiscordPlatformSettings extends DiscordPermissions {
  token: string;
  applicationId: string;
  channel: string;
  /** The REST base (DISCORD_API_URL); the gateway's address comes from it. */
  apiUrl: string;
  /** DISCORD_PUBLIC_KEY: interactions may also arrive over HTTP, signed with it. */
  publicKey?: string;
}

export interface DiscordPlatform extends ChatPlatform {
  /** The discord.js client: its gateway connection receives interactions, its REST client posts. */
  readonly client: Client;
}

/** The standard gateway client receives interactions; its REST client (base from DISCORD_API_URL) posts. */
export function discordPlatform(settings: DiscordPlatformSettings, { log, redis, prefix }: PlatformDeps): DiscordPlatform {
  const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: settings.apiUrl } });
  client.rest.setToken(settings.token);
  const permissions: DiscordPermissions = {
    oncallRoleId: settings.oncallRoleId,
    escalationRoleId: settings.escalationRoleId,
    adminRoleIds: settings.adminRoleIds,
    guildId: settings.guildId,
  };
  return {
    client,
    adapter: new DiscordAdapter(client.rest, {
      channel: settings.channel,
      token: settings.token,
      oncallRoleId: settings.oncallRoleId,
      escalationRoleId: settings.escalationRoleId,
    }),
    mount(http, commands) {
      if (settings.publicKey) {
        mountDiscordHttpInteractions(http, {
          publicKeyHex: settings.publicKey,
          applicationId: settings.applicationId,
          rest: client.rest,
          permissions,
          commands,
          log,
          replay: new ReplayGuard(redis, prefix, 'discord'),
        });
      }
      handleGatewayInteractions(client, permissions, commands, log);
    },
    async start() {
      client.on('error', (err) => log.warn({ err: err.message }, 'discord client error'));
      // Not awaited: a gateway outage must not hold up alerting; discord.js reconnects by itself.
      client.login(settings.token).catch((err: Error) => log.error({ err: err.message }, 'discord login failed'));
    },
    async stop() {
      await client.destroy();
    },
  };
}
