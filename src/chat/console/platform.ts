import type { ChatPlatform, PlatformDeps } from '../platform.js';
import { ConsoleAdapter } from './adapter.js';
import { ConsoleServer } from './server.js';

/** The local web console, on when XMSG_CONSOLE=1: a chat platform kept in Redis, served on xmsg's HTTP server. */
export interface ConsolePlatformSettings {
  /** How long console threads are kept: the alert retention. */
  retentionS: number;
  /** XMSG_CONSOLE_TOKEN: visitors sign in with it and may then come from anywhere; loopback only when unset. */
  token?: string;
}

export function consolePlatform(settings: ConsolePlatformSettings, { redis, redisTarget, prefix, log }: PlatformDeps): ChatPlatform {
  const adapter = new ConsoleAdapter(redis, prefix, settings.retentionS);
  let server: ConsoleServer | undefined;
  return {
    adapter,
    mount(http, commands) {
      server = new ConsoleServer(adapter, commands, redisTarget, log, settings.token);
      server.mount(http);
    },
    async start() {
      await server?.start();
    },
    async stop() {
      await server?.close();
    },
  };
}
