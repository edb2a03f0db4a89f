import { randomBytes } from 'node:crypto';
import type { BlockJson } from './blocks.js';

/** Who the fake workspace and its one installed app are. Fixed so tests can assert on them. */
export const IDENTITY = {
  teamId: 'T0XMSGTEST',
  teamDomain: 'xmsg-test',
  teamName: 'xmsg test',
  appId: 'A0XMSGAPP',
  botId: 'B0XMSGBOT',
  botUserId: 'U0XMSGBOT',
  botName: 'xmsg',
  /** The deprecated verification token Slack still puts in every command and interaction payload. */
  verificationToken: 'fake-verification-token',
} as const;

export interface MessageContent {
  text: string;
  blocks?: BlockJson[];
}

/** Slack message metadata (`metadata` of chat.postMessage and chat.update), as stored and returned. */
export interface MessageMetadata {
  event_type: string;
  event_payload: Record<string, unknown>;
}

/** A message as the fake stores it: its current content and every content it had before an edit, oldest first. */
export interface FakeMessage extends MessageContent {
  channel: string;
  ts: string;
  /** Set on thread replies: the root's ts. */
  threadTs?: string;
  edits: number;
  history: MessageContent[];
  metadata?: MessageMetadata;
  /**
   * Set when the root was deleted while it had replies: Slack keeps it as a tombstone ("This message was deleted.",
   * subtype `tombstone`) that still holds its thread, but no method finds it as a message any more.
   */
  tombstone?: true;
}

export interface FakeUser {
  name: string;
  realName?: string;
}

/**
 * Message ids in Slack's "seconds.microseconds" form. Unique and strictly increasing even within one microsecond,
 * because Slack orders a channel (and xmsg's tests) by them.
 */
class TsClock {
  private lastMicros = 0;

  next(): string {
    this.lastMicros = Math.max(Date.now() * 1000, this.lastMicros + 1);
    return `${Math.floor(this.lastMicros / 1e6)}.${String(this.lastMicros % 1e6).padStart(6, '0')}`;
  }
}

export interface WorkspaceSeed {
  usergroups?: Record<string, string[]>;
  users?: Record<string, FakeUser>;
}

/** The workspace's state: channels' messages, users and user groups. */
export class Workspace {
  private readonly clock = new TsClock();
  /** Per channel, roots and replies in posting order. */
  private messages = new Map<string, FakeMessage[]>();
  /** `channel ts` of messages deleted outright (a root without replies, a reply): Slack remembers nothing else of them. */
  private deleted = new Set<string>();
  private users = new Map<string, FakeUser>();

  constructor(private readonly seed: WorkspaceSeed) {
    this.reset();
  }

  nextTs(): string {
    return this.clock.next();
  }

  post(channel: string, content: MessageContent, threadTs?: string, metadata?: MessageMetadata): FakeMessage {
    const message: FakeMessage = { channel, ts: this.nextTs(), text: content.text, edits: 0, history: [] };
    if (content.blocks?.length) message.blocks = withBlockIds(content.blocks);
    if (threadTs) message.threadTs = threadTs;
    if (metadata) message.metadata = structuredClone(metadata);
    this.channel(channel).push(message);
    return message;
  }

  /** Replaces what the update names; Slack keeps the blocks when `blocks` is absent and drops them for `[]`. */
  edit(message: FakeMessage, content: Partial<MessageContent>, metadata?: MessageMetadata): void {
    if (metadata) message.metadata = structuredClone(metadata);
    message.history.push(structuredClone(message.blocks ? { text: message.text, blocks: message.blocks } : { text: message.text }));
    message.edits += 1;
    if (content.text !== undefined) message.text = content.text;
    if (content.blocks?.length) message.blocks = withBlockIds(content.blocks);
    else if (content.blocks) delete message.blocks;
  }

  /** A live message (not a tombstone) of the channel. */
  find(channel: string, ts: string): FakeMessage | undefined {
    return this.messages.get(channel)?.find((m) => m.ts === ts && !m.tombstone);
  }

  /** A root that still holds a thread: a live root, or the tombstone of one deleted with replies. */
  threadRoot(channel: string, ts: string): FakeMessage | undefined {
    return this.messages.get(channel)?.find((m) => m.ts === ts && !m.threadTs);
  }

  /** Whether this message was deleted outright (so it is neither found nor a tombstone). */
  wasDeleted(channel: string, ts: string): boolean {
    return this.deleted.has(`${channel} ${ts}`);
  }

  /**
   * Deletes a message as Slack does (chat.delete, or a person in the client): a root with replies becomes a
   * tombstone that keeps its thread; anything else is gone. False when there is no such live message.
   */
  delete(channel: string, ts: string): boolean {
    const message = this.find(channel, ts);
    if (!message) return false;
    if (!message.threadTs && this.replies(channel, ts).length) {
      message.tombstone = true;
      message.text = 'This message was deleted.';
      delete message.blocks;
      delete message.metadata;
      return true;
    }
    const list = this.channel(channel);
    list.splice(list.indexOf(message), 1);
    this.deleted.add(`${channel} ${ts}`);
    return true;
  }

  roots(channel: string): FakeMessage[] {
    return this.channel(channel).filter((m) => !m.threadTs);
  }

  replies(channel: string, threadTs: string): FakeMessage[] {
    return this.channel(channel).filter((m) => m.threadTs === threadTs);
  }

  /** Roots of a channel whose ts is in the range, newest first (Slack's order for conversations.history). */
  rootsBetween(channel: string, oldest: bigint, latest: bigint, inclusive: boolean): FakeMessage[] {
    return this.roots(channel)
      .filter((m) => {
        const t = tsMicros(m.ts)!;
        return inclusive ? t >= oldest && t <= latest : t > oldest && t < latest;
      })
      .reverse();
  }

  user(id: string): FakeUser | undefined {
    return this.users.get(id);
  }

  /**
   * Someone who sends a command or presses a button is a member of the workspace from then on, under the name the
   * delivery gives (a group member seeded by id alone has a name made from the id until then).
   */
  rememberUser(id: string, name?: string): FakeUser {
    const known = this.users.get(id);
    const user = { ...known, name: name ?? known?.name ?? id.toLowerCase() };
    this.users.set(id, user);
    return user;
  }

  usergroup(id: string): string[] | undefined {
    return this.seed.usergroups?.[id];
  }

  /** Back to the seed. The ts clock keeps running so a ts is never reused, even across tests. */
  reset(): void {
    this.messages = new Map();
    this.deleted = new Set();
    this.users = new Map(Object.entries(this.seed.users ?? {}));
    for (const members of Object.values(this.seed.usergroups ?? {})) {
      for (const id of members) this.rememberUser(id);
    }
  }

  private channel(id: string): FakeMessage[] {
    let list = this.messages.get(id);
    if (!list) this.messages.set(id, (list = []));
    return list;
  }
}

/**
 * The message JSON Slack returns from chat.* methods and puts in interaction payloads. `metadata` is left out
 * where Slack leaves it out (conversations.history without `include_all_metadata`).
 */
export function messageJson(m: FakeMessage, withMetadata = true): Record<string, unknown> {
  return {
    type: 'message',
    user: IDENTITY.botUserId,
    bot_id: IDENTITY.botId,
    app_id: IDENTITY.appId,
    team: IDENTITY.teamId,
    ts: m.ts,
    text: m.text,
    ...(m.blocks ? { blocks: structuredClone(m.blocks) } : {}),
    ...(m.tombstone ? { subtype: 'tombstone', hidden: true } : {}),
    ...(m.threadTs ? { thread_ts: m.threadTs, parent_user_id: IDENTITY.botUserId } : {}),
    ...(m.metadata && withMetadata ? { metadata: structuredClone(m.metadata) } : {}),
  };
}

/** A Slack ts ("1700000000.000100", or fewer digits as a bound: "1700000000.5", "1700000000") in microseconds. */
export function tsMicros(ts: string): bigint | undefined {
  const m = /^(\d+)(?:\.(\d{0,6}))?$/.exec(ts);
  return m ? BigInt(m[1]!) * 1_000_000n + BigInt((m[2] ?? '').padEnd(6, '0')) : undefined;
}

/** Slack gives every block without a `block_id` a random one; interaction payloads then carry it. */
function withBlockIds(blocks: BlockJson[]): BlockJson[] {
  const taken = new Set(blocks.flatMap((b) => (b.block_id ? [b.block_id] : [])));
  return blocks.map((b) => {
    if (b.block_id) return structuredClone(b);
    let id: string;
    do id = randomBytes(4).toString('base64url').slice(0, 5);
    while (taken.has(id));
    taken.add(id);
    return { ...structuredClone(b), block_id: id };
  });
}
