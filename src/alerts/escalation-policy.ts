import { z } from 'zod';
import type { MentionTarget } from './chat-port.js';
import { ALERT_KINDS, type AlertKind, KINDS, type Severity } from './model.js';

/**
 * The escalation ladder: which level an unacknowledged alert pages next, when, and whom. Pure: the configuration
 * builds the policy (XMSG_ESCALATE_AFTER_S, XMSG_ESCALATION_REPEAT_S, the optional file XMSG_ESCALATION_POLICY), the
 * alert service follows it (src/alerts/service.ts), and the escalation timers carry out its steps.
 */

/** Whom a level pages: the on-call group or role, or the escalation one. Each chat platform maps them to its own. */
export type EscalationTarget = MentionTarget;
export const ESCALATION_TARGETS = ['oncall', 'escalation'] as const satisfies readonly EscalationTarget[];

export interface LadderLevel {
  /** Seconds after the previous level (level 1: after the alert opened). A level 1 at 0 pages in the alert's first post. */
  afterS: number;
  targets: readonly EscalationTarget[];
}

export interface Ladder {
  /** Level 1 first. */
  levels: readonly LadderLevel[];
  /** Past the last level, it is paged again this often, for as long as nobody acknowledges. */
  repeatEveryS: number;
}

/** The ladder of each alert kind. A kind's severity never changes, so a ladder set per severity is its kinds' ladder. */
export type EscalationPolicy = Readonly<Record<AlertKind, Ladder>>;

/** The two timings of the environment, which make the built-in ladder and fill in what a policy file leaves out. */
export interface EscalationTimings {
  /** XMSG_ESCALATE_AFTER_S */
  escalateAfterS: number;
  /** XMSG_ESCALATION_REPEAT_S */
  escalationRepeatS: number;
}

/** One step up the ladder: the level it reaches, how long after the previous level it comes, and whom it pages. */
export interface Step {
  level: number;
  delayS: number;
  targets: readonly EscalationTarget[];
}

/**
 * The ladder without a policy file (the behaviour before there was one): level 1 pages on-call XMSG_ESCALATE_AFTER_S
 * after the alert opened (at once for the kinds that page at once: a cross-safety violation), level 2 pages on-call
 * again XMSG_ESCALATION_REPEAT_S later, and level 3 and every level after it pages the escalation group as often.
 */
export function builtInLadder(kind: AlertKind, t: EscalationTimings): Ladder {
  return {
    levels: [
      { afterS: KINDS[kind].pageAtOnce ? 0 : t.escalateAfterS, targets: ['oncall'] },
      { afterS: t.escalationRepeatS, targets: ['oncall'] },
      { afterS: t.escalationRepeatS, targets: ['escalation'] },
    ],
    repeatEveryS: t.escalationRepeatS,
  };
}

export function builtInPolicy(t: EscalationTimings): EscalationPolicy {
  return Object.fromEntries(ALERT_KINDS.map((kind) => [kind, builtInLadder(kind, t)])) as Record<AlertKind, Ladder>;
}

/** The step that reaches `level` (1 or more): a level of the ladder, or past its end a repeat of the last one. */
export function stepTo(ladder: Ladder, level: number): Step {
  const defined = ladder.levels[level - 1];
  if (defined) return { level, delayS: defined.afterS, targets: defined.targets };
  const last = ladder.levels[ladder.levels.length - 1]!;
  return { level, delayS: ladder.repeatEveryS, targets: last.targets };
}

/** The step after `level` (0 for an alert not escalated yet). */
export const nextStep = (ladder: Ladder, level: number): Step => stepTo(ladder, level + 1);

/** Whether the first level pages in the alert's first post instead of after a wait. */
export const pagesAtOnce = (ladder: Ladder): boolean => stepTo(ladder, 1).delayS === 0;

/** The targets as a thread reply names them: "on-call", "escalation", "on-call and escalation". */
export function describeTargets(targets: readonly EscalationTarget[]): string {
  return targets.map((t) => (t === 'oncall' ? 'on-call' : 'escalation')).join(' and ');
}

// The policy file (XMSG_ESCALATION_POLICY). Unknown keys are refused, so that a misspelt name is an error at start
// rather than a ladder silently not applied.

/** More levels than anyone pages through; a larger number is a mistake in the file. */
const MAX_LEVELS = 20;

const levelSchema = z.strictObject({
  afterS: z.number().int().nonnegative(),
  targets: z
    .array(z.enum(ESCALATION_TARGETS))
    .min(1)
    .refine((ts) => new Set(ts).size === ts.length, 'names a target twice'),
});

const ladderSchema = z.strictObject({
  levels: z.array(levelSchema).min(1).max(MAX_LEVELS),
  /** Defaults to XMSG_ESCALATION_REPEAT_S. */
  repeatEveryS: z.number().int().positive().optional(),
});

const SEVERITIES = ['critical', 'warning'] as const satisfies readonly Severity[];

const policyFileSchema = z.strictObject({
  default: ladderSchema.optional(),
  severity: z.partialRecord(z.enum(SEVERITIES), ladderSchema).optional(),
  kind: z.partialRecord(z.enum(ALERT_KINDS), ladderSchema).optional(),
});

type LadderInFile = z.infer<typeof ladderSchema>;

/**
 * The policy a file's content sets: for each kind, the ladder the file names for that kind, else for its severity,
 * else the file's default, else the built-in ladder. Problems come one per line (`kind.unpromoted.levels[0].afterS:
 * …`), for the configuration to report together.
 */
export function parseEscalationPolicy(
  raw: unknown,
  t: EscalationTimings,
): { ok: true; policy: EscalationPolicy } | { ok: false; problems: string[] } {
  const parsed = policyFileSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, problems: parsed.error.issues.map((i) => `${pathOf(i.path)}: ${i.message}`) };
  const file = parsed.data;
  const ladder = (l: LadderInFile): Ladder => ({ levels: l.levels, repeatEveryS: l.repeatEveryS ?? t.escalationRepeatS });
  const policy = Object.fromEntries(
    ALERT_KINDS.map((kind) => {
      const chosen = file.kind?.[kind] ?? file.severity?.[KINDS[kind].severity] ?? file.default;
      return [kind, chosen ? ladder(chosen) : builtInLadder(kind, t)];
    }),
  ) as Record<AlertKind, Ladder>;
  return { ok: true, policy };
}

/** `kind.unpromoted.levels[0].afterS`; `(file)` for the whole file. */
function pathOf(path: readonly PropertyKey[]): string {
  if (!path.length) return '(file)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('');
}
