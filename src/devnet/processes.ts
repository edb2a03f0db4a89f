import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

// Children still running when this process ends. A plain 'exit' handler is not enough: a process ended by a
// signal (vitest stops its forks with SIGTERM) emits no 'exit', and the children would outlive it.
// A process that handles the signal itself (the demo: Ctrl-C deletes its Redis keys first) is left to end in its
// own order; its children go at its 'exit' at the latest.
const liveChildren = new Set<ChildProcess>();
let hooksInstalled = false;

function killAll(): void {
  for (const child of liveChildren) child.kill('SIGKILL');
}

function installHooks(): void {
  hooksInstalled = true;
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      if (process.listenerCount(signal) > 1) return;
      killAll();
      // A listener disables the signal's default action. Ours goes away and the signal is raised again, so it
      // still ends the process.
      process.off(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

/** Kills `child` with SIGKILL when this process ends, however it ends. */
export function killOnExit(child: ChildProcess): void {
  if (!hooksInstalled) installHooks();
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
}

/** A TCP port free on 127.0.0.1 right now (someone may still take it before it is bound). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
