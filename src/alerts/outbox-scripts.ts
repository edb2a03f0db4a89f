import { defineScript } from '../store/scripts.js';

/** The chat outbox's Lua scripts (src/alerts/lua/), each with its typed call; src/alerts/notifier.ts runs them. */

const lua = (file: string) => new URL(`./lua/${file}`, import.meta.url);

/** Adds one update to an alert's pending updates on a platform unless it was posted there; true if added. */
export const queueChatUpdate = defineScript(lua('queueChatUpdate-2.lua'), {
  keys: ['pending', 'done'],
  args: ['seq', 'update', 'ttlS'],
  reply: (raw) => raw === 1,
});

/** Reserves the next moment for one API call of a kind on a platform; answers how many ms to wait before it. */
export const takeChatSlot = defineScript(lua('takeChatSlot-1.lua'), {
  keys: ['slot'],
  args: ['intervalMs'],
  reply: (raw) => Number(raw),
});
