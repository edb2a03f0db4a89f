import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { CommandReply } from '../../commands/handlers.js';
import { answerOrDefer, withFailureReply } from './answer.js';

const log = pino({ level: 'silent' });
const reply: CommandReply = { ok: true, text: 'done' };

/** Records what a platform was asked to do, in order. */
function recorder() {
  const calls: string[] = [];
  return {
    calls,
    answering: {
      now: (r: CommandReply) => void calls.push(`now ${r.text}`),
      defer: () => void calls.push('defer'),
      later: async (r: CommandReply) => void calls.push(`later ${r.text}`),
    },
  };
}

describe('answerOrDefer', () => {
  it('answers at once with a reply ready in time', async () => {
    const { calls, answering } = recorder();
    await answerOrDefer(Promise.resolve(reply), answering, 50);
    expect(calls).toEqual(['now done']);
  });

  it('defers a slow reply, then answers with it', async () => {
    const { calls, answering } = recorder();
    await answerOrDefer(new Promise<CommandReply>((r) => setTimeout(() => r(reply), 80)), answering, 20);
    expect(calls).toEqual(['defer', 'later done']);
  });
});

describe('withFailureReply', () => {
  it('passes a reply through', async () => {
    expect(await withFailureReply(Promise.resolve(reply), log, 'failed')).toBe(reply);
  });

  it('answers a failure with its first line and says nothing changed', async () => {
    const failed = await withFailureReply(Promise.reject(new Error('redis went away\n    at stack')), log, 'failed');
    expect(failed).toEqual({
      ok: false,
      text: "Something went wrong on xmsg's side: redis went away. Nothing was changed unless a thread reply says so.",
    });
  });
});
