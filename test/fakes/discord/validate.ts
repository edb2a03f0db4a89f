/**
 * The checks Discord makes on a message body before accepting it (the limits of
 * https://discord.com/developers/docs/resources/message#create-message and the embed/component limits), answered
 * like Discord: HTTP 400, code 50035 "Invalid Form Body" with an `errors` tree naming the field.
 */
import type { Pinged } from './state.js';

export type FormErrors = Record<string, string>;

const BUTTON = 2;
const ACTION_ROW = 1;
const BUTTON_STYLES = new Set([1, 2, 3, 4, 5, 6]);
const MENTION_KINDS = new Set(['roles', 'users', 'everyone']);

export function validateMessageBody(body: Record<string, unknown>, { creating }: { creating: boolean }): FormErrors {
  const errors: FormErrors = {};
  const content = body.content;
  if (content !== undefined && content !== null && typeof content !== 'string') errors.content = 'must be a string';
  if (typeof content === 'string' && content.length > 2000) errors.content = 'Must be 2000 or fewer in length.';
  const embeds = body.embeds as unknown[] | undefined;
  if (embeds !== undefined && embeds !== null) {
    if (!Array.isArray(embeds)) errors.embeds = 'must be an array';
    else {
      if (embeds.length > 10) errors.embeds = 'Must be 10 or fewer in length.';
      let total = 0;
      embeds.forEach((e, i) => {
        total += validateEmbed(e as Record<string, unknown>, `embeds.${i}`, errors);
      });
      if (total > 6000) errors.embeds = 'Embed size exceeds maximum size of 6000';
    }
  }
  const components = body.components as unknown[] | undefined;
  if (components !== undefined && components !== null) validateComponents(components, errors);
  validateAllowedMentions(body.allowed_mentions, errors);
  if (body.nonce !== undefined) {
    const n = body.nonce;
    if (!(typeof n === 'number' || (typeof n === 'string' && n.length <= 25))) errors.nonce = 'Must be 25 or fewer in length.';
  }
  if (creating) {
    const empty =
      !(typeof content === 'string' && content.length) &&
      !(Array.isArray(embeds) && embeds.length) &&
      !(Array.isArray(components) && components.length);
    if (empty) errors._ = 'Cannot send an empty message (code 50006)';
  }
  return errors;
}

function validateEmbed(e: Record<string, unknown>, at: string, errors: FormErrors): number {
  let size = 0;
  const str = (v: unknown, field: string, max: number) => {
    if (v === undefined) return;
    if (typeof v !== 'string') errors[`${at}.${field}`] = 'must be a string';
    else if (v.length > max) errors[`${at}.${field}`] = `Must be ${max} or fewer in length.`;
    else size += v.length;
  };
  str(e.title, 'title', 256);
  str(e.description, 'description', 4096);
  if (e.color !== undefined && (typeof e.color !== 'number' || e.color < 0 || e.color > 0xffffff))
    errors[`${at}.color`] = 'int value should be less than or equal to 16777215.';
  if (e.timestamp !== undefined && Number.isNaN(Date.parse(String(e.timestamp)))) errors[`${at}.timestamp`] = 'Could not parse timestamp.';
  const fields = e.fields as Array<Record<string, unknown>> | undefined;
  if (fields !== undefined) {
    if (!Array.isArray(fields)) errors[`${at}.fields`] = 'must be an array';
    else {
      if (fields.length > 25) errors[`${at}.fields`] = 'Must be 25 or fewer in length.';
      fields.forEach((f, i) => {
        for (const [k, max] of [
          ['name', 256],
          ['value', 1024],
        ] as const) {
          const v = f[k];
          if (typeof v !== 'string' || !v.length) errors[`${at}.fields.${i}.${k}`] = 'This field is required';
          else if (v.length > max) errors[`${at}.fields.${i}.${k}`] = `Must be ${max} or fewer in length.`;
          else size += v.length;
        }
      });
    }
  }
  return size;
}

function validateComponents(rows: unknown, errors: FormErrors): void {
  if (!Array.isArray(rows)) {
    errors.components = 'must be an array';
    return;
  }
  if (rows.length > 5) errors.components = 'Must be 5 or fewer in length.';
  const ids = new Set<string>();
  rows.forEach((row: Record<string, unknown>, r) => {
    if (row?.type !== ACTION_ROW) errors[`components.${r}.type`] = 'Value of field "type" must be one of (1,).';
    const children = row?.components as Array<Record<string, unknown>> | undefined;
    if (!Array.isArray(children) || !children.length) {
      errors[`components.${r}.components`] = 'Must be between 1 and 5 in length.';
      return;
    }
    if (children.length > 5) errors[`components.${r}.components`] = 'Must be 5 or fewer in length.';
    children.forEach((c, i) => {
      const at = `components.${r}.components.${i}`;
      if (c.type !== BUTTON) return;
      if (!BUTTON_STYLES.has(c.style as number)) errors[`${at}.style`] = 'Invalid button style';
      if (typeof c.label === 'string' && c.label.length > 80) errors[`${at}.label`] = 'Must be 80 or fewer in length.';
      if (c.style === 5) {
        if (typeof c.url !== 'string') errors[`${at}.url`] = 'This field is required';
        return;
      }
      if (typeof c.custom_id !== 'string' || !c.custom_id.length) errors[`${at}.custom_id`] = 'This field is required';
      else if (c.custom_id.length > 100) errors[`${at}.custom_id`] = 'Must be 100 or fewer in length.';
      else if (ids.has(c.custom_id)) errors[`${at}.custom_id`] = 'Component custom id cannot be duplicated';
      else ids.add(c.custom_id);
    });
  });
}

function validateAllowedMentions(am: unknown, errors: FormErrors): void {
  if (am === undefined || am === null) return;
  const a = am as { parse?: unknown; roles?: unknown; users?: unknown };
  if (a.parse !== undefined && (!Array.isArray(a.parse) || a.parse.some((p) => !MENTION_KINDS.has(p as string)))) {
    errors['allowed_mentions.parse'] = 'Value must be one of {"roles", "users", "everyone"}.';
    return;
  }
  const parse = (a.parse as string[] | undefined) ?? [];
  for (const kind of ['roles', 'users'] as const) {
    const list = a[kind];
    if (list === undefined) continue;
    if (!Array.isArray(list) || list.some((x) => typeof x !== 'string' || !/^\d{1,20}$/.test(x)))
      errors[`allowed_mentions.${kind}`] = 'Value is not snowflake.';
    else if (list.length > 100) errors[`allowed_mentions.${kind}`] = 'Must be 100 or fewer in length.';
    else if (parse.includes(kind)) errors[`allowed_mentions.${kind}`] = `parse:["${kind}"] and ${kind}: [ids...] are mutually exclusive.`;
  }
}

/**
 * Who a message pings: a `<@&id>` role or `<@id>` user mention in the content, or `@everyone`/`@here`, pings only
 * if allowed_mentions permits it; without allowed_mentions everything in the content pings (Discord's default).
 */
export function computePings(content: string, allowed: unknown): Pinged {
  const roles = [...content.matchAll(/<@&(\d+)>/g)].map((m) => m[1]!);
  const users = [...content.matchAll(/<@!?(\d+)>/g)].map((m) => m[1]!);
  const everyone = /@(everyone|here)\b/.test(content);
  if (allowed === undefined || allowed === null) return { roles: dedupe(roles), users: dedupe(users), everyone };
  const a = allowed as { parse?: string[]; roles?: string[]; users?: string[] };
  const parse = a.parse ?? [];
  return {
    roles: dedupe(roles.filter((r) => parse.includes('roles') || (a.roles ?? []).includes(r))),
    users: dedupe(users.filter((u) => parse.includes('users') || (a.users ?? []).includes(u))),
    everyone: everyone && parse.includes('everyone'),
  };
}

const dedupe = (xs: string[]) => [...new Set(xs)];

/** Discord's rules for application command bodies (PUT /applications/.../commands). */
export function validateCommands(body: unknown): FormErrors {
  const errors: FormErrors = {};
  if (!Array.isArray(body)) return { _: 'must be an array' };
  if (body.length > 100) errors._ = 'Must be 100 or fewer in length.';
  const NAME = /^[-_\p{L}\p{N}]{1,32}$/u;
  const checkOptions = (options: unknown, at: string, depth: number) => {
    if (options === undefined) return;
    if (!Array.isArray(options)) {
      errors[at] = 'must be an array';
      return;
    }
    if (options.length > 25) errors[at] = 'Must be 25 or fewer in length.';
    let sawOptional = false;
    const names = new Set<string>();
    options.forEach((o: Record<string, unknown>, i) => {
      const p = `${at}.${i}`;
      if (typeof o.name !== 'string' || !NAME.test(o.name) || o.name !== o.name.toLowerCase()) errors[`${p}.name`] = 'Invalid name';
      else if (names.has(o.name)) errors[`${p}.name`] = 'Application command option names must be unique';
      else names.add(o.name as string);
      if (typeof o.description !== 'string' || o.description.length < 1 || o.description.length > 100)
        errors[`${p}.description`] = 'Must be between 1 and 100 in length.';
      const type = o.type as number;
      if (type === 1 || type === 2) {
        if (depth > 1) errors[`${p}.type`] = 'Sub-command groups nest at most once';
        checkOptions(o.options, `${p}.options`, depth + 1);
        return;
      }
      if (o.required) {
        if (sawOptional) errors[`${p}.required`] = 'Required options must be placed before non-required options';
      } else sawOptional = true;
      const choices = o.choices as unknown[] | undefined;
      if (choices !== undefined && (!Array.isArray(choices) || choices.length > 25))
        errors[`${p}.choices`] = 'Must be 25 or fewer in length.';
    });
  };
  body.forEach((c: Record<string, unknown>, i) => {
    if (typeof c.name !== 'string' || !NAME.test(c.name) || c.name !== c.name.toLowerCase()) errors[`${i}.name`] = 'Invalid name';
    if ((c.type ?? 1) === 1 && (typeof c.description !== 'string' || c.description.length < 1 || c.description.length > 100))
      errors[`${i}.description`] = 'Must be between 1 and 100 in length.';
    checkOptions(c.options, `${i}.options`, 1);
    // InteractionContextType (GUILD 0, BOT_DM 1, PRIVATE_CHANNEL 2) and ApplicationIntegrationType (GUILD_INSTALL 0,
    // USER_INSTALL 1): Discord refuses any other value, and accepts both fields on guild commands too.
    checkEnumList(c.contexts, [0, 1, 2], `${i}.contexts`, errors, true);
    checkEnumList(c.integration_types, [0, 1], `${i}.integration_types`, errors, false);
  });
  return errors;
}

function checkEnumList(value: unknown, allowed: number[], at: string, errors: FormErrors, nullable: boolean): void {
  if (value === undefined || (nullable && value === null)) return;
  if (!Array.isArray(value)) {
    errors[at] = 'Must be an array.';
    return;
  }
  value.forEach((v, j) => {
    if (!allowed.includes(v as number)) errors[`${at}.${j}`] = `Value "${String(v)}" is not a valid enum value.`;
  });
}

/** The `errors` object of a 50035 answer, nested the way Discord nests it. */
export function formErrorBody(errors: FormErrors): Record<string, unknown> {
  const tree: Record<string, unknown> = {};
  for (const [path, message] of Object.entries(errors)) {
    let node = tree;
    for (const part of path.split('.')) node = (node[part] ??= {}) as Record<string, unknown>;
    node._errors = [{ code: 'BASE_TYPE_INVALID', message }];
  }
  return { message: 'Invalid Form Body', code: 50035, errors: tree };
}
