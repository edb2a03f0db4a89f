/**
 * `--profile=<dir>`: a V8 CPU profile of one timed section only (not the setup around it), written as
 * `<dir>/<name>.cpuprofile` for Chrome DevTools or speedscope. Without a directory the section just runs.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';

export const profileDir = process.argv.find((a) => a.startsWith('--profile='))?.slice('--profile='.length);

export async function profiled<T>(name: string, run: () => Promise<T>): Promise<T> {
  if (!profileDir) return run();
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
    const result = await run();
    const { profile } = await session.post('Profiler.stop');
    mkdirSync(profileDir, { recursive: true });
    const path = join(profileDir, `${name}.cpuprofile`);
    writeFileSync(path, JSON.stringify(profile));
    console.log(`bench: CPU profile of ${name} in ${path}`);
    return result;
  } finally {
    session.disconnect();
  }
}
