import type { Alert, AuditEntry } from './model.js';

/**
 * The port between the alerting core and the chat platforms, owned by the core that calls it (docs/ARCHITECTURE.md
 * §2): the notifier posts through `ChatAdapter`, and operators' commands and buttons arrive as an `Actor`. Each
 * platform implements it in `src/chat/<platform>/`; nothing here knows a platform.
 */

/** Which on-call audience a post pages. Each adapter maps it to its platform's group or role. */
export type Mention = 'oncall' | 'escalation';

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
