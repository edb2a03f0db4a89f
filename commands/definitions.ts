import { ApplicationCommandOptionType, type RESTPutAPIApplicationCommandsJSONBody } from 'discord.js';
import { SUBCOMMANDS } from './grammar.js';

/** The `/xmsg` slash command as Discord registers it, derived from the one command model. */
export function discordCommands(): RESTPutAPIApplicationCommandsJSONBody {
  return [
    {
      name: 'xmsg',
      description: 'xmsg: interop message alerts',
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
