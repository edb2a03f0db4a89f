/**
 * The subset of Block Kit validation Slack applies when a message is posted or updated. Limits are Slack's published
 * ones (https://docs.slack.dev/reference/block-kit); a button without an `action_id` is rejected although Slack would
 * invent one, because xmsg could never route the press.
 */

/** A block as it travels in JSON; only `type` is known for every block. */
export type BlockJson = { type: string; block_id?: string; [key: string]: unknown };

export type BlocksVerdict =
  | { ok: true; blocks: BlockJson[] }
  | { ok: false; error: 'invalid_blocks' | 'invalid_blocks_format'; messages: string[] };

const MAX_BLOCKS = 50;
const MAX_ACTIONS_ELEMENTS = 25;
const MAX_CONTEXT_ELEMENTS = 10;
const MAX_SECTION_FIELDS = 10;
const MAX_ID = 255;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
/** Slack counts characters, not UTF-16 units: an emoji is one. */
const length = (s: string) => Array.from(s).length;

/** Checks `blocks` (already parsed from JSON) the way chat.postMessage / chat.update do. */
export function validateBlocks(blocks: unknown): BlocksVerdict {
  if (!Array.isArray(blocks)) return { ok: false, error: 'invalid_blocks_format', messages: ['[ERROR] blocks must be an array'] };
  const check = new MessageCheck();
  if (blocks.length > MAX_BLOCKS) check.fail(`no more than ${MAX_BLOCKS} items allowed`, '/blocks');
  blocks.forEach((block, i) => {
    check.block(block, `/blocks/${i}`);
  });
  return check.errors.length ? { ok: false, error: 'invalid_blocks', messages: check.errors } : { ok: true, blocks: blocks as BlockJson[] };
}

/** Collects every violation in one message, as Slack lists them all in `response_metadata.messages`. */
class MessageCheck {
  readonly errors: string[] = [];
  private readonly actionIds = new Set<string>();
  private readonly blockIds = new Set<string>();

  fail(what: string, pointer: string): void {
    this.errors.push(`[ERROR] ${what} [json-pointer:${pointer}]`);
  }

  block(block: unknown, at: string): void {
    if (!isObject(block) || typeof block.type !== 'string') return this.fail('must be an object with a string `type`', at);
    if (block.block_id !== undefined) this.uniqueId(block.block_id, this.blockIds, `${at}/block_id`);
    switch (block.type) {
      case 'section':
        return this.section(block, at);
      case 'header':
        return this.text(block.text, `${at}/text`, 150, ['plain_text']);
      case 'context':
        return this.elements(block.elements, `${at}/elements`, MAX_CONTEXT_ELEMENTS, (el, p) => {
          if (!isObject(el) || el.type !== 'image') this.text(el, p, 3000);
        });
      case 'actions':
        return this.elements(block.elements, `${at}/elements`, MAX_ACTIONS_ELEMENTS, (el, p) => this.interactive(el, p));
    }
  }

  private section(block: Json, at: string): void {
    if (block.text === undefined && block.fields === undefined) return this.fail('must provide either `text` or `fields`', at);
    if (block.text !== undefined) this.text(block.text, `${at}/text`, 3000);
    if (block.fields !== undefined) {
      this.elements(block.fields, `${at}/fields`, MAX_SECTION_FIELDS, (field, p) => this.text(field, p, 2000));
    }
    if (block.accessory !== undefined) this.interactive(block.accessory, `${at}/accessory`);
  }

  private elements(list: unknown, at: string, max: number, each: (el: unknown, at: string) => void): void {
    if (!Array.isArray(list) || list.length === 0) return this.fail('must be a non-empty array', at);
    if (list.length > max) this.fail(`no more than ${max} items allowed`, at);
    list.forEach((el, i) => {
      each(el, `${at}/${i}`);
    });
  }

  private interactive(el: unknown, at: string): void {
    if (!isObject(el) || typeof el.type !== 'string') return this.fail('must be an element object with a string `type`', at);
    if (el.action_id === undefined) {
      if (el.type === 'button') this.fail('must provide `action_id`', at);
    } else {
      this.uniqueId(el.action_id, this.actionIds, `${at}/action_id`);
    }
    if (el.type !== 'button') return;
    this.text(el.text, `${at}/text`, 75, ['plain_text']);
    if (el.value !== undefined && (typeof el.value !== 'string' || length(el.value) > 2000)) {
      this.fail('must be a string of at most 2000 characters', `${at}/value`);
    }
    if (el.style !== undefined && el.style !== 'primary' && el.style !== 'danger')
      this.fail('must be "primary" or "danger"', `${at}/style`);
  }

  private text(obj: unknown, at: string, max: number, types = ['plain_text', 'mrkdwn']): void {
    if (!isObject(obj) || typeof obj.type !== 'string' || !types.includes(obj.type)) {
      return this.fail(`must be a text object of type ${types.join(' or ')}`, at);
    }
    if (typeof obj.text !== 'string' || obj.text.length === 0) return this.fail('must be more than 0 characters', `${at}/text`);
    if (length(obj.text) > max) this.fail(`must be less than ${max + 1} characters`, `${at}/text`);
  }

  private uniqueId(id: unknown, seen: Set<string>, at: string): void {
    if (typeof id !== 'string' || id.length === 0 || length(id) > MAX_ID)
      return this.fail(`must be a string of 1 to ${MAX_ID} characters`, at);
    if (seen.has(id)) this.fail(`duplicate id "${id}" within the message`, at);
    seen.add(id);
  }
}
