import {
  ApplicationCommandOptionType,
  ApplicationIntegrationType,
  InteractionContextType,
  type RESTPutAPIApplicationCommandsJSONBody,
} from 'discord.js';
import { SUBCOMMANDS } from './grammar.js';

/**
 * The `/xmsg` slash command as Discord registers it, derived from the one command model. Usable in servers only:
 * not offered in DMs with the bot or in other DMs (`contexts`), nor installable to a user's account
 * (`integration_types`); xmsg also refuses interactions from outside its server (src/chat/discord/interactions.ts).
 */
export function discordCommands(): RESTPutAPIApplicationCommandsJSONBody {
  return [
    {
      name: 'xmsg',
      description: 'xmsg: interop message alerts',
      contexts: [InteractionContextType.Guild],
      integration_types: [ApplicationIntegrationType.GuildInstall],
      options: SUBCOMMANDS.map((s) => ({
        type: ApplicationCommandOptionType.Subcommand,
        name: s.name,
        description: s.summary.slice(0, 100),
        options: s.options.map((o) => ({
          type: ApplicationCommandOptionType.String,
          name: o.name,
          description: o.description.slice(0, 100),
          required: o.required,
          ...(o.choices ? { choices: o.choices.map((c) => ({ name: c, value: c })) } : {}),
        })),
      })),
    },
  ];
}
