import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChainableCommander, Redis } from 'ioredis';

/**
 * The one loader of xmsg's Lua scripts (docs/ARCHITECTURE.md §4). Each script is a file `<name>-<numberOfKeys>.lua`
 * in a `lua/` folder beside the module that runs it, opening with a header that names every KEYS and ARGV entry and
 * the reply; `<name>-N.lua` takes a list of keys after its named ones (a batch: every key still in KEYS). A line `--- @include "<name>"` is replaced by `lua/includes/<name>.lua` (an include may include others;
 * each is inlined once per script). `defineScript` reads and resolves a file when its module is imported;
 * `loadScripts(redis)` registers every script read so far on a connection with ioredis `defineCommand`, which sends
 * EVALSHA and falls back to the text on NOSCRIPT, in pipelines too.
 */

/** A value ARGV carries: numbers as decimal text, booleans as '1' / '0'. */
export type ScriptValue = string | number | boolean;

/**
 * A script's named input: each key name a Redis key, each argument name a value, the list name a list of values, the
 * key list name a list of Redis keys.
 */
export type ScriptInput<K extends string, A extends string, L extends string = never, KL extends string = never> = {
  [key in K]: string;
} & {
  [arg in A]: ScriptValue;
} & { [list in L]: ScriptValue[] } & { [keyList in KL]: string[] };

export interface ScriptSpec<K extends string, A extends string, L extends string, R, KL extends string = never> {
  /** KEYS by name, in order: as the file's header lists them. */
  keys: readonly K[];
  /** The name of the keys that follow the named KEYS, for a script named `<name>-N.lua` (a batch). */
  keyList?: KL;
  /** ARGV by name, in order: as the file's header lists them. */
  args: readonly A[];
  /** The name of the values that follow the named ARGV (field/value pairs…), for a script that takes such a list. */
  list?: L;
  /** The script's reply as its callers see it. */
  reply: (raw: unknown) => R;
}

/** One script with a typed call: `await script.run(redis, { …named keys and arguments })`. */
export class RedisScript<K extends string, A extends string, L extends string, R, KL extends string = never> {
  constructor(
    /** The command name on a connection: `xmsg` and the file's name, e.g. `xmsgCreateMessage`. */
    readonly command: string,
    /** The script's text with its includes resolved. */
    readonly lua: string,
    readonly spec: ScriptSpec<K, A, L, R, KL>,
  ) {}

  async run(redis: Redis, input: ScriptInput<K, A, L, KL>): Promise<R> {
    return this.spec.reply(await this.commandOn(redis)(...this.argv(input)));
  }

  /** Adds the call to a pipeline (or MULTI); its reply, from `exec`, goes through `reply`. */
  queue(pipeline: ChainableCommander, input: ScriptInput<K, A, L, KL>): void {
    this.commandOn(pipeline)(...this.argv(input));
  }

  reply(raw: unknown): R {
    return this.spec.reply(raw);
  }

  private argv(input: ScriptInput<K, A, L, KL>): string[] {
    const named = input as Record<string, ScriptValue | ScriptValue[] | undefined>;
    const value = (name: string): string => {
      const v = named[name];
      if (v === undefined || Array.isArray(v)) throw new Error(`${this.command}: no value for ${name}`);
      return typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
    };
    const list = this.spec.list === undefined ? [] : ((named[this.spec.list] as ScriptValue[] | undefined) ?? []);
    const args = [...this.spec.args.map(value), ...list.map((v) => String(v))];
    if (this.spec.keyList === undefined) return [...this.spec.keys.map(value), ...args];
    // A key count of its own for each call: ioredis sends it first when the command was defined without one.
    const keyList = (named[this.spec.keyList] as string[] | undefined) ?? [];
    return [String(this.spec.keys.length + keyList.length), ...this.spec.keys.map(value), ...keyList, ...args];
  }

  private commandOn(target: Redis | ChainableCommander): (...args: string[]) => Promise<unknown> {
    const command = (target as unknown as Record<string, unknown>)[this.command];
    if (typeof command !== 'function')
      throw new Error(`${this.command} is not registered on this connection: call loadScripts(redis) first`);
    return command.bind(target) as (...args: string[]) => Promise<unknown>;
  }
}

/** Every script read, by command name, with its file. */
const registry = new Map<string, { file: string; script: RedisScript<string, string, string, unknown, string> }>();

/**
 * Reads the script file `file` (a URL beside the calling module: `new URL('./lua/createMessage-6.lua',
 * import.meta.url)`) and returns its typed call. Throws at import when the file is missing, an include is missing
 * or circular, or the file's name or header disagrees with the call's named keys and arguments.
 */
export function defineScript<
  const K extends string,
  const A extends string,
  R,
  const L extends string = never,
  const KL extends string = never,
>(file: URL, spec: ScriptSpec<K, A, L, R, KL>): RedisScript<K, A, L, R, KL> {
  const path = fileURLToPath(file);
  const match = /^(\w+)-(\d+|N)\.lua$/.exec(basename(path));
  if (!match) throw new Error(`${path}: a script file is named <name>-<numberOfKeys>.lua (or <name>-N.lua for a key list)`);
  const [, name, keyCount] = match as unknown as [string, string, string];
  if ((keyCount === 'N') !== (spec.keyList !== undefined))
    throw new Error(`${path}: a script named <name>-N.lua, and only one, takes a key list (keyList)`);
  if (keyCount !== 'N' && Number(keyCount) !== spec.keys.length)
    throw new Error(`${path}: the name says ${keyCount} keys, the script's call names ${spec.keys.length}`);
  const command = `xmsg${name[0]!.toUpperCase()}${name.slice(1)}`;
  const known = registry.get(command);
  if (known && known.file !== path) throw new Error(`${known.file} and ${path} are both ${command}`);
  const lua = resolveIncludes(path, join(dirname(path), 'includes'));
  checkHeader(path, lua, spec);
  const script = new RedisScript(command, lua, spec);
  registry.set(command, { file: path, script: script as unknown as RedisScript<string, string, string, unknown, string> });
  return script;
}

/**
 * Registers every script read so far on this connection; idempotent, so each store's constructor calls it for its
 * connection. A pipeline has the scripts its connection had when it was made.
 */
export function loadScripts(redis: Redis): void {
  const defined = redis.scriptsSet as Record<string, unknown>;
  for (const { script } of registry.values()) {
    if (script.command in defined) continue;
    if (script.command in redis) throw new Error(`${script.command} would hide a method of the Redis client`);
    const numberOfKeys = script.spec.keyList === undefined ? script.spec.keys.length : undefined;
    redis.defineCommand(script.command, { lua: script.lua, ...(numberOfKeys === undefined ? {} : { numberOfKeys }) });
  }
}

const INCLUDE = /^--- @include "([\w-]+)"\s*$/;

/** The file's text with each include line replaced by that include's text (itself resolved), each include once. */
function resolveIncludes(path: string, includesDir: string, done = new Set<string>(), within: string[] = []): string {
  if (within.includes(path)) throw new Error(`circular @include: ${[...within, path].join(' -> ')}`);
  const lines = readFileSync(path, 'utf8').split('\n');
  return lines
    .map((line) => {
      const include = INCLUDE.exec(line)?.[1];
      if (include === undefined) return line;
      const file = join(includesDir, `${include}.lua`);
      if (done.has(file)) return `-- (${include}: included above)`;
      const text = resolveIncludes(file, includesDir, done, [...within, path]);
      done.add(file);
      return text.trimEnd();
    })
    .join('\n');
}

/**
 * The header's contract must be the typed call's: `Input:` lists `KEYS[n] <name>` and `ARGV[n] <name>` (and
 * `ARGV[n...] <list>`) in the call's order and nothing else, then comes `Output:`.
 */
function checkHeader(path: string, lua: string, spec: ScriptSpec<string, string, string, unknown, string>): void {
  const input = /^--\[\[\n[\s\S]*?\n\s*Input:\n([\s\S]*?)\n\s*Output:\n[\s\S]*?\n\]\]/.exec(lua)?.[1];
  if (input === undefined) throw new Error(`${path}: the script opens with a --[[ ]] header: its purpose, Input: and Output:`);
  const listed = [...input.matchAll(/^\s*((?:KEYS|ARGV)\[[^\]]+\])\s+(\w+)/gm)].map(([, slot, name]) => `${slot} ${name}`);
  const named = [
    ...spec.keys.map((key, i) => `KEYS[${i + 1}] ${key}`),
    ...(spec.keyList === undefined ? [] : [`KEYS[${spec.keys.length + 1}...] ${spec.keyList}`]),
    ...spec.args.map((arg, i) => `ARGV[${i + 1}] ${arg}`),
    ...(spec.list === undefined ? [] : [`ARGV[${spec.args.length + 1}...] ${spec.list}`]),
  ];
  if (listed.join(',') !== named.join(','))
    throw new Error(`${path}: the header lists ${listed.join(', ')}; the typed call names ${named.join(', ')}`);
}
