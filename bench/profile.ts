/**
 * `--profile=<dir>`: a V8 CPU profile and a sampled allocation profile of one timed section only (not the setup
 * around it), written as `<dir>/<name>.cpuprofile` and `<dir>/<name>.heapprofile` for Chrome DevTools or speedscope
 * (where the garbage the collector spends its time on comes from). Without a directory the section just runs.
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
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: 64 * 1024,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    const result = await run();
    const { profile } = await session.post('Profiler.stop');
    const { profile: allocations } = await session.post('HeapProfiler.stopSampling');
    mkdirSync(profileDir, { recursive: true });
    const path = join(profileDir, `${name}.cpuprofile`);
    writeFileSync(path, JSON.stringify(profile));
    writeFileSync(join(profileDir, `${name}.heapprofile`), JSON.stringify(allocations));
    console.log(`bench: CPU and allocation profiles of ${name} in ${path.replace(/\.cpuprofile$/, '.*')}`);
    return result;
  } finally {
    session.disconnect();
  }
}
