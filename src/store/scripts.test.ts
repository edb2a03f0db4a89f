import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { defineScript, loadScripts } from './scripts.js';

// The loader on scripts written to a temporary folder, run against Redis alone.

const dir = mkdtempSync(join(tmpdir(), 'xmsg-lua-'));
mkdirSync(join(dir, 'includes'));
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const prefix = `xmsgtest-scripts-${randomUUID().slice(0, 8)}`;

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  for await (const found of redis.scanStream({ match: `${prefix}:*`, count: 1000 })) if (found.length) await redis.del(...found);
  await redis.quit();
});

const header = (input: string[]) => [
  '--[[',
  '  A test script.',
  '',
  '  Input:',
  ...input.map((l) => `    ${l}`),
  '',
  '  Output:',
  '    1',
  ']]',
];
function write(name: string, lines: string[]): URL {
  const path = join(dir, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return pathToFileURL(path);
}

write('includes/twice.lua', ['local function twice(n) return 2 * n end']);
write('includes/add_twice.lua', [
  '--- @include "twice"',
  'local function add_twice(key, n) return redis.call("INCRBY", key, twice(n)) end',
]);

describe('script loader', () => {
  const addTwice = defineScript(
    write('addTwice-1.lua', [
      ...header(['KEYS[1] counter  a counter', '', 'ARGV[1] amount   added twice', 'ARGV[2...] notes  ignored']),
      '--- @include "add_twice"',
      '--- @include "twice"',
      'return add_twice(KEYS[1], tonumber(ARGV[1]))',
    ]),
    { keys: ['counter'], args: ['amount'], list: 'notes', reply: (raw) => Number(raw) },
  );

  it('inlines each include once, nested ones too', () => {
    expect(addTwice.command).toBe('xmsgAddTwice');
    expect(addTwice.lua.match(/local function twice/g)).toHaveLength(1);
    expect(addTwice.lua).not.toMatch(/^--- @include/m);
  });

  it('registers once per connection and runs with named arguments, also in a pipeline', async () => {
    loadScripts(redis);
    loadScripts(redis);
    const counter = `${prefix}:counter`;
    expect(await addTwice.run(redis, { counter, amount: 3, notes: ['a', 'b'] })).toBe(6);
    const pipeline = redis.pipeline();
    addTwice.queue(pipeline, { counter, amount: 1, notes: [] });
    addTwice.queue(pipeline, { counter, amount: 2, notes: [] });
    const replies = (await pipeline.exec())!.map(([err, raw]) => (err ? err : addTwice.reply(raw)));
    expect(replies).toEqual([8, 12]);
  });

  it('runs a script with a key list after its named keys (<name>-N.lua), and checks its header for it', async () => {
    const sum = defineScript(
      write('sumAll-N.lua', [
        ...header(['KEYS[1] total    the sum', 'KEYS[2...] counters  counters added up', '', 'ARGV[1] extra  added once']),
        'local n = tonumber(ARGV[1])',
        'for i = 2, #KEYS do n = n + tonumber(redis.call("GET", KEYS[i]) or "0") end',
        'redis.call("SET", KEYS[1], n)',
        'return n',
      ]),
      { keys: ['total'], keyList: 'counters', args: ['extra'], reply: (raw) => Number(raw) },
    );
    loadScripts(redis);
    await redis.set(`${prefix}:c1`, 2);
    await redis.set(`${prefix}:c2`, 5);
    expect(await sum.run(redis, { total: `${prefix}:total`, counters: [`${prefix}:c1`, `${prefix}:c2`], extra: 1 })).toBe(8);
    expect(await sum.run(redis, { total: `${prefix}:total`, counters: [], extra: 1 })).toBe(1);
    const spec = { keys: ['a'], args: [], reply: (raw: unknown) => raw } as const;
    expect(() => defineScript(write('noList-N.lua', [...header(['KEYS[1] a']), 'return 1']), spec)).toThrow(/key list/);
    expect(() =>
      defineScript(write('listed-1.lua', [...header(['KEYS[1] a', 'KEYS[2...] b']), 'return 1']), { ...spec, keyList: 'b' }),
    ).toThrow(/key list/);
  });

  it('refuses a connection it has not registered on', async () => {
    const other = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { lazyConnect: true });
    await expect(addTwice.run(other, { counter: `${prefix}:x`, amount: 1, notes: [] })).rejects.toThrow(/loadScripts/);
    other.disconnect();
  });

  it('refuses files whose name, header or includes disagree with the call', () => {
    const body = ['return 1'];
    const spec = { keys: ['a'], args: ['b'], reply: (raw: unknown) => raw } as const;
    expect(() => defineScript(write('noCount.lua', [...header(['KEYS[1] a', 'ARGV[1] b']), ...body]), spec)).toThrow(
      /<name>-<numberOfKeys>/,
    );
    expect(() => defineScript(write('wrongCount-2.lua', [...header(['KEYS[1] a', 'ARGV[1] b']), ...body]), spec)).toThrow(/says 2 keys/);
    expect(() => defineScript(write('noHeader-1.lua', body), spec)).toThrow(/header/);
    expect(() => defineScript(write('staleHeader-1.lua', [...header(['KEYS[1] a', 'ARGV[1] c']), ...body]), spec)).toThrow(/ARGV\[1\] c/);
    expect(() => defineScript(write('missing-1.lua', [...header(['KEYS[1] a', 'ARGV[1] b']), '--- @include "nowhere"']), spec)).toThrow(
      /nowhere\.lua/,
    );
    write('includes/loop_a.lua', ['--- @include "loop_b"']);
    write('includes/loop_b.lua', ['--- @include "loop_a"']);
    expect(() => defineScript(write('loop-1.lua', [...header(['KEYS[1] a', 'ARGV[1] b']), '--- @include "loop_a"']), spec)).toThrow(
      /circular/,
    );
  });
});
