import { randomBytes, randomInt } from 'node:crypto';
import type { BlockJson } from './blocks.js';
import type { SigningOverrides } from './signing.js';
import { IDENTITY, messageJson, type Workspace } from './workspace.js';

export interface SlashCommandInput extends SigningOverrides {
  text: string;
  userId: string;
  userName?: string;
  channelId: string;
  channelName?: string;
  command?: string;
  teamId?: string;
}

export interface BlockActionInput extends SigningOverrides {
  userId: string;
  userName?: string;
  channelId: string;
  channelName?: string;
  /** The message whose button was pressed (a root or a reply). */
  messageTs: string;
  /** Only needed for a message the fake does not hold; a stored reply knows its thread. */
  threadTs?: string;
  actionId: string;
  /** Defaults to the stored button's value, as Slack sends what the button carries. */
  value?: string;
  blockId?: string;
  teamId?: string;
}

/** Shaped like Slack's: `{13 digits}.{13 digits}.{32 hex}`. */
const triggerId = () => `${randomInt(1e12, 1e13 - 1)}.${randomInt(1e12, 1e13 - 1)}.${randomBytes(16).toString('hex')}`;

const actionTs = () => (Date.now() / 1000).toFixed(6);

/** Every field Slack puts in a slash command's form body. */
export function slashCommandForm(ws: Workspace, input: SlashCommandInput, responseUrl: string): Record<string, string> {
  const user = ws.rememberUser(input.userId, input.userName);
  return {
    token: IDENTITY.verificationToken,
    team_id: input.teamId ?? IDENTITY.teamId,
    team_domain: IDENTITY.teamDomain,
    channel_id: input.channelId,
    channel_name: input.channelName ?? input.channelId.toLowerCase(),
    user_id: input.userId,
    user_name: user.name,
    command: input.command ?? '/xmsg',
    text: input.text,
    api_app_id: IDENTITY.appId,
    is_enterprise_install: 'false',
    response_url: responseUrl,
    trigger_id: triggerId(),
  };
}

/**
 * The `block_actions` payload of a button press on a message, with the message as the fake holds it (Slack sends
 * the message's current content), or a minimal one for a message the fake never saw.
 */
export function blockActionPayload(ws: Workspace, input: BlockActionInput, responseUrl: string): Record<string, unknown> {
  const user = ws.rememberUser(input.userId, input.userName);
  const teamId = input.teamId ?? IDENTITY.teamId;
  const stored = ws.find(input.channelId, input.messageTs);
  const threadTs = stored ? stored.threadTs : input.threadTs;
  const message = stored
    ? messageJson(stored)
    : { type: 'message', ts: input.messageTs, text: '', ...(threadTs ? { thread_ts: threadTs } : {}) };
  const found = stored?.blocks ? findButton(stored.blocks, input.actionId) : undefined;
  const value = input.value ?? found?.button.value;
  if (typeof value !== 'string')
    throw new Error(`sendBlockAction: no value given and no stored button "${input.actionId}" on ${input.messageTs}`);
  return {
    type: 'block_actions',
    user: { id: input.userId, username: user.name, name: user.name, team_id: teamId },
    api_app_id: IDENTITY.appId,
    token: IDENTITY.verificationToken,
    container: {
      type: 'message',
      message_ts: input.messageTs,
      channel_id: input.channelId,
      is_ephemeral: false,
      ...(threadTs ? { thread_ts: threadTs } : {}),
    },
    trigger_id: triggerId(),
    team: { id: teamId, domain: IDENTITY.teamDomain },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: input.channelId, name: input.channelName ?? input.channelId.toLowerCase() },
    message,
    state: { values: {} },
    response_url: responseUrl,
    actions: [
      {
        type: 'button',
        action_id: input.actionId,
        block_id: input.blockId ?? found?.blockId ?? randomBytes(4).toString('base64url').slice(0, 5),
        text: found?.button.text ?? { type: 'plain_text', text: input.actionId, emoji: true },
        value,
        ...(found?.button.style ? { style: found.button.style } : {}),
        action_ts: actionTs(),
      },
    ],
  };
}

type Button = { text?: unknown; value?: unknown; style?: unknown };

/** The button with `actionId` in an actions block or a section's accessory, and the block holding it. */
function findButton(blocks: BlockJson[], actionId: string): { blockId: string; button: Button } | undefined {
  for (const block of blocks) {
    const candidates = block.type === 'actions' && Array.isArray(block.elements) ? block.elements : [block.accessory];
    const button = candidates.find(
      (el): el is Button => typeof el === 'object' && el !== null && (el as { action_id?: unknown }).action_id === actionId,
    );
    if (button && block.block_id) return { blockId: block.block_id, button };
  }
  return undefined;
}
