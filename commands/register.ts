import { REST, Routes } from 'discord.js';
import { z } from 'zod';
import { discordCommands } from './definitions.js';

/**
 * `npm run register-commands`: registers `/xmsg` with Discord, as guild commands when DISCORD_GUILD_ID is set
 * (instant, for a test server) and as global commands otherwise.
 */
const env = z
  .object({
    DISCORD_BOT_TOKEN: z.string().min(1, 'is required'),
    DISCORD_APPLICATION_ID: z.string().regex(/^\d+$/, 'must be the numeric application id'),
    DISCORD_GUILD_ID: z.string().regex(/^\d+$/, 'must be a numeric guild id').optional(),
    DISCORD_API_URL: z.string().url().default('https://discord.com/api'),
  })
  .safeParse(Object.fromEntries(Object.entries(process.env).filter(([, v]) => v !== '')));

if (!env.success) {
  for (const issue of env.error.issues) console.error(`register-commands: ${issue.path.join('.')}: ${issue.message}`);
  process.exit(2);
}

const { DISCORD_BOT_TOKEN, DISCORD_APPLICATION_ID, DISCORD_GUILD_ID, DISCORD_API_URL } = env.data;
const rest = new REST({ api: DISCORD_API_URL }).setToken(DISCORD_BOT_TOKEN);
const route = DISCORD_GUILD_ID
  ? Routes.applicationGuildCommands(DISCORD_APPLICATION_ID, DISCORD_GUILD_ID)
  : Routes.applicationCommands(DISCORD_APPLICATION_ID);

try {
  const registered = (await rest.put(route, { body: discordCommands() })) as Array<{ id: string; name: string }>;
  console.log(
    `registered ${registered.map((c) => `/${c.name} (${c.id})`).join(', ')} ${DISCORD_GUILD_ID ? `in guild ${DISCORD_GUILD_ID}` : 'globally (may take up to an hour to appear)'}`,
  );
} catch (err) {
  console.error(`register-commands: ${(err as Error).message}`);
  process.exit(1);
}
