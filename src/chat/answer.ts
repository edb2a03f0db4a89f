import type { Logger } from 'pino';
import type { CommandReply } from '../../commands/handlers.js';
import { firstLine } from '../errors.js';

/**
 * Slack and Discord drop an interaction that is not answered within 3 s (DESIGN.md §4): a reply ready within 2 s is
 * the answer; a slower one is deferred and sent when it is ready.
 */
export const ANSWER_INLINE_WITHIN_MS = 2000;

/** How a platform answers an interaction: at once, or "working on it" first and the reply later. */
export interface Answering {
  now(reply: CommandReply): Promise<void> | void;
  defer(): Promise<void> | void;
  later(reply: CommandReply): Promise<void>;
}

/** Answers with `reply` if it is ready within `withinMs`, else defers and answers when it is. */
export async function answerOrDefer(reply: Promise<CommandReply>, answering: Answering, withinMs = ANSWER_INLINE_WITHIN_MS): Promise<void> {
  const quick = await within(reply, withinMs);
  if (quick) {
    await answering.now(quick);
    return;
  }
  await answering.defer();
  await answering.later(await reply);
}

async function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  const timeout = AbortSignal.timeout(ms);
  const timedOut = new Promise<undefined>((resolve) => timeout.addEventListener('abort', () => resolve(undefined)));
  return Promise.race([p, timedOut]);
}

/**
 * The reply of a command or button press that failed on xmsg's side: logged (as `logMessage`), and answered with
 * its first line, so the person is never left without an answer and knows that nothing changed.
 */
export function withFailureReply(reply: Promise<CommandReply>, log: Logger, logMessage: string): Promise<CommandReply> {
  return reply.catch((err: unknown) => {
    log.error({ err }, logMessage);
    return {
      ok: false,
      text: `Something went wrong on xmsg's side: ${firstLine(err)}. Nothing was changed unless a thread reply says so.`,
    };
  });
}
