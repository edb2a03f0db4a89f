import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { type StopStep, stopGracefully } from './shutdown.js';

const log = pino({ level: 'silent' });

describe('stopGracefully', () => {
  it('runs the steps one after another and ends clean', async () => {
    const ran: string[] = [];
    const step = (name: string): StopStep => [name, async () => void ran.push(name)];
    let cut = false;
    const outcome = await stopGracefully({ steps: [step('a'), step('b')], graceMs: 1000, cut: () => (cut = true), log });
    expect(outcome).toEqual({ clean: true });
    expect(ran).toEqual(['a', 'b']);
    expect(cut).toBe(false);
  });

  it('names the step still waiting when the grace period is over, and cuts', async () => {
    let cut = false;
    const outcome = await stopGracefully({
      steps: [
        ['quick', async () => undefined],
        ['stuck', () => new Promise(() => undefined)],
        ['never reached', async () => undefined],
      ],
      graceMs: 30,
      cut: () => (cut = true),
      log,
    });
    expect(outcome).toEqual({ clean: false, stuckAt: 'stuck' });
    expect(cut).toBe(true);
  });
});
