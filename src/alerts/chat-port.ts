import type { Alert, AuditEntry } from './model.js';

/**
 * The port between the alerting core and the chat platforms, owned by the core that calls it (docs/ARCHITECTURE.md
 * §2): the notifier posts through `ChatAdapter`, and operators' commands and buttons arrive as an `Actor`. Each
 * platform implements it in `src/chat/<platform>/`; nothing here knows a platform.
 */

/** One on-call audience a post may page. Each adapter maps it to its platform's group or role. */
export type MentionTarget = 'oncall' | 'escalation';

/**
 * Whom a post pages: the targets of an escalation level, one or several. A single target is also what deliveries
 * queued before a level could page several carry; `mentionTargets` reads both.
 */
export type Mention = MentionTarget | readonly MentionTarget[];

/** The targets a post pages, each once, in order. */
export function mentionTargets(m: Mention | undefined): MentionTarget[] {
  if (m === undefined) return [];
  return [...new Set<MentionTarget>(typeof m === 'string' ? [m] : m)];
}

/** Whether a post pages anyone: an empty list of targets pages nobody. */
export const pages = (m: Mention | undefined): boolean => mentionTargets(m).length > 0;

/** Where an alert's root message lives on one platform (channel and message id), kept in Redis. */
export interface ThreadRef {
  channel: string;
  id: string;
  /** Platform-specific extra, e.g. Discord's thread channel id. */
  thread?: string;
}

export interface AlertView {
  alert: Alert;
  runbook: string;
  audit: AuditEntry[];
  /**
   * The deployment the alert belongs to (src/store/deployment.ts), carried by its buttons: a press of a button from an
   * earlier state of Redis, whose alert numbers restarted, changes nothing. Absent while Redis holds no marker.
   */
  deployment?: string;
  /**
   * How many times this alert's root was posted again on the platform after being deleted there (absent: never).
   * An idempotency key of a root post (Discord's nonce) includes it, so a repost is never taken for the deleted root.
   */
  repost?: number;
  /** The root offers "Enable failsafe": a consensus-bug kind while the failsafe is configured (src/alerts/failsafe.ts). */
  failsafe?: boolean;
}

export interface ChatUpdate {
  text: string;
  mention?: Mention;
  /** Identifies this update among its alert's updates (the change sequence), for platforms with idempotent posts. */
  key?: string;
  /** The name of the thread, for a platform that must start one for this reply: the alert's id and title. */
  threadName?: string;
}

/**
 * One chat platform. The core talks to platforms only through this; adapters never decide alert state.
 * Methods throw `ChatRetryLater` for transient failures (429, 5xx, network) and `ChatRejected` for requests the
 * platform will never accept.
 */
export interface ChatAdapter {
  readonly platform: string;
  postRoot(view: AlertView, mention?: Mention): Promise<ThreadRef>;
  /** Returns a new ref when the reply had to complete it (e.g. create the thread the root post could not). */
  reply(ref: ThreadRef, update: ChatUpdate): Promise<ThreadRef | void>;
  editRoot(ref: ThreadRef, view: AlertView): Promise<void>;
  /**
   * For platforms without an idempotency key on posts: the alert's root if an earlier `postRoot`, started at or
   * after `since` (ms since the epoch), was carried out although its answer never arrived (a crash, a timeout, a 5xx
   * after the write). The chat outbox asks before posting a root again. Throws `ChatRejected` when the platform will
   * not let the app look (e.g. a missing scope): the outbox then posts, as without this method.
   */
  findRoot?(view: AlertView, since: number): Promise<ThreadRef | undefined>;
  /**
   * For platforms without an idempotency key on posts: whether the reply of this `key` is in the thread of `ref`,
   * posted by an earlier `reply` started at or after `since` (ms since the epoch) whose answer never arrived. The
   * outbox asks only before posting that same reply again. Throws `ChatRejected` when the platform will not let the
   * app look (e.g. a missing scope): the outbox then posts, as without this method.
   */
  findReply?(ref: ThreadRef, key: string, since: number): Promise<boolean>;
  /**
   * A channel-level notice, not in any alert's thread (e.g. a silence that mutes new alerts). `key` names the notice
   * for platforms with idempotent posts (Discord's nonce, the console's notice list); the outbox posts each notice
   * once per platform. `deployment` (src/store/deployment.ts) tells this deployment's notice from an earlier one's
   * of the same key (notice ids restart with Redis), for `findNotice`.
   */
  announce(text: string, key?: string, deployment?: string): Promise<void>;
  /**
   * For platforms without an idempotency key on posts: whether the notice of this `key` (and `deployment`) is in the
   * channel, posted by an earlier `announce` started at or after `since` (ms since the epoch) whose answer never
   * arrived. The outbox asks only before posting that same notice again. Throws `ChatRejected` when the platform will
   * not let the app look (e.g. a missing scope): the outbox then posts, as without this method.
   */
  findNotice?(key: string, since: number, deployment?: string): Promise<boolean>;
}

export class ChatRetryLater extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ChatRetryLater';
  }
}

export class ChatRejected extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChatRejected';
  }
}

/**
 * What one alert's reply or root edit needs is gone on the platform, while the platform itself works: its root
 * message was deleted (`root`: the outbox posts the root again), or its thread was deleted, archived or locked
 * (`thread`: retried a few times, then that alert's deliveries on the platform are parked). Never thrown by
 * `postRoot` or `announce`, whose failures concern the whole channel.
 */
export class ChatGone extends Error {
  constructor(
    message: string,
    readonly gone: 'root' | 'thread',
  ) {
    super(message);
    this.name = 'ChatGone';
  }
}

/** The identity a chat command or button press comes from, with what the platform says it may do. */
export interface Actor {
  platform: string;
  userId: string;
  name: string;
  /** May acknowledge, escalate, resolve and silence; `refusal` says why not otherwise. */
  canAct: boolean;
  refusal?: string;
}

export const actorLabel = (a: Pick<Actor, 'platform' | 'userId' | 'name'>) => `${a.name} (${a.platform}:${a.userId})`;
