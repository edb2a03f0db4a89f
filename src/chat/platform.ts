import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { CommandDeps } from '../../commands/handlers.js';
import type { ChatAdapter } from '../alerts/chat-port.js';
import type { HttpServer } from '../http/server.js';
import type { RedisTarget } from '../store/redis.js';

/**
 * One chat platform as the composition root sees it: the adapter the notifier posts through, and the inbound side
 * (slash commands and buttons) wired to the command handlers. Each platform builds its client, adapter and routes
 * in `src/chat/<platform>/platform.ts` from its section of the configuration.
 */
export interface ChatPlatform {
  readonly adapter: ChatAdapter;
  /** Wires commands and buttons to the handlers, with HTTP routes for those that arrive over HTTP. */
  mount(http: HttpServer, commands: CommandDeps): void;
  /** Starts receiving what does not arrive over HTTP (Discord's gateway, the console's updates from other replicas). */
  start(): Promise<void>;
  /** Stops receiving; the HTTP routes close with the HTTP server. */
  stop(): Promise<void>;
}

/** What a platform may use besides its settings. */
export interface PlatformDeps {
  /** The replica's shared connection (auto-pipelined). */
  redis: Redis;
  /** For a platform that needs a connection of its own (the console's pub/sub subscriber). */
  redisTarget: RedisTarget;
  prefix: string;
  log: Logger;
}
