/**
 * Imports point one way (docs/ARCHITECTURE.md §2): every import between modules of src/ and commands/ goes to the
 * same layer or one below it, and no module reaches itself again through its imports. Reads the sources as text:
 * no build, no Redis, milliseconds.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The layers from the bottom up. A module belongs to the first layer with a path that is its own or a folder above it. */
const LAYERS: ReadonlyArray<{ name: string; paths: readonly string[] }> = [
  // Beside the stack: know nothing of xmsg, so every layer may use them.
  { name: 'base', paths: ['src/errors.ts', 'src/metrics.ts', 'src/http/server.ts'] },
  { name: 'chain', paths: ['src/chain/'] },
  { name: 'store', paths: ['src/store/'] },
  { name: 'watcher, jobs, events', paths: ['src/watcher/', 'src/jobs/', 'src/events/', 'src/queues/'] },
  { name: 'alerts', paths: ['src/alerts/'] },
  { name: 'chat, commands', paths: ['src/chat/', 'commands/'] },
  { name: 'http', paths: ['src/http/'] },
  // The composition root and what only it reads; the devnet serves tests, the bench and the demo.
  { name: 'app', paths: ['src/app.ts', 'src/app/', 'src/main.ts', 'src/config.ts', 'src/devnet/'] },
];

function layerOf(file: string): number {
  return LAYERS.findIndex((layer) => layer.paths.some((p) => (p.endsWith('/') ? file.startsWith(p) : file === p)));
}

/** The modules under the checked folders, as paths from the repository root; tests beside the code are not layered. */
function modules(): string[] {
  return ['src', 'commands'].flatMap((folder) =>
    readdirSync(join(ROOT, folder), { recursive: true, encoding: 'utf8' })
      .map((f) => `${folder}/${f.split('\\').join('/')}`)
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.d.ts')),
  );
}

const IMPORT_FROM = /^\s*(?:import|export)\s[^;]*?\sfrom\s*['"]([^'"]+)['"]/gm;
const IMPORT_BARE = /^\s*import\s*['"]([^'"]+)['"]/gm;
const IMPORT_DYNAMIC = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/** The modules of this repository that `file` imports (static, re-exported, side-effect or dynamic), type-only ones too. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const specifiers = [IMPORT_FROM, IMPORT_BARE, IMPORT_DYNAMIC].flatMap((re) => [...text.matchAll(re)].map((m) => m[1]!));
  return specifiers
    .filter((s) => s.startsWith('./') || s.startsWith('../'))
    .map((s) =>
      relative(ROOT, resolve(ROOT, dirname(file), s))
        .split('\\')
        .join('/')
        .replace(/\.js$/, '.ts'),
    );
}

function importGraph(): Map<string, string[]> {
  return new Map(modules().map((f) => [f, importsOf(f).filter((target) => target.endsWith('.ts'))]));
}

/** Every cycle once, as the modules along it with the first one repeated at the end. */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (file: string) => {
    const at = path.indexOf(file);
    if (at >= 0) {
      found.push([...path.slice(at), file]);
      return;
    }
    if (done.has(file)) return;
    path.push(file);
    for (const target of graph.get(file) ?? []) visit(target);
    path.pop();
    done.add(file);
  };
  for (const file of [...graph.keys()].sort()) visit(file);
  return found;
}

describe('layers', () => {
  const graph = importGraph();

  it('reads the imports it checks', () => {
    expect(graph.get('src/app.ts')).toContain('src/config.ts');
    expect(graph.get('commands/handlers.ts')).toContain('src/alerts/service.ts');
  });

  it('places every module in a layer', () => {
    expect([...graph.keys()].filter((f) => layerOf(f) < 0)).toEqual([]);
  });

  it('has no import that points up the layers', () => {
    const upward: string[] = [];
    for (const [file, targets] of graph) {
      for (const target of targets) {
        const [from, to] = [layerOf(file), layerOf(target)];
        if (to > from) upward.push(`${file} (${LAYERS[from]?.name}) imports ${target} (${LAYERS[to]?.name})`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('has no import cycle', () => {
    expect(cycles(graph).map((c) => c.join(' → '))).toEqual([]);
  });
});
