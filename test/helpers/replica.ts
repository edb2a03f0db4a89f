/**
 * xmsg replicas as separate OS processes (`node --max-semi-space-size=64 --import tsx src/main.ts`, configured from the environment as
 * `npm start` is), for tests that kill them with SIGKILL, restart them, and check they are still alive.
 *
 * Every process started here is killed when the test process ends, also when it ends by a signal (vitest stops
 * its workers with SIGTERM), so a failing test leaves no replica behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { killOnExit } from '../../src/devnet/processes.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const READY_TIMEOUT_MS = 45_000;
const STOP_GRACE_MS = 10_000;

export interface ReplicaOptions {
  /** Shown in errors and used for the log file names. */
  name: string;
  /** The whole environment of the replica (nothing is inherited but PATH and HOME). */
  env: NodeJS.ProcessEnv;
  /** Where `{name}-{n}.log` (stdout and stderr of the n-th start) go. */
  logDir: string;
}

interface Run {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  log: WriteStream;
  logPath: string;
}

/** Node's flags as `npm start` and the Docker image run xmsg with (README "Operating model"). */
const NODE_FLAGS = ['--max-semi-space-size=64'];

/**
 * One replica. `start()` spawns it and resolves once its HTTP server answers /readyz; `kill()` is `kill -9`;
 * `start()` again restarts it with the same environment (a new owner id, a new HTTP port).
 */
export class Replica {
  private run?: Run;
  private starts = 0;
  /** HTTP port of the current run. */
  port = 0;

  constructor(readonly options: ReplicaOptions) {}

  get name(): string {
    return this.options.name;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.run?.child.pid;
  }

  /** True while the current process has not exited. */
  get alive(): boolean {
    const c = this.run?.child;
    return !!c && c.exitCode === null && c.signalCode === null;
  }

  get logPath(): string | undefined {
    return this.run?.logPath;
  }

  async start(): Promise<void> {
    if (this.alive) throw new Error(`replica ${this.name} is already running`);
    this.starts++;
    const logPath = join(this.options.logDir, `${this.name}-${this.starts}.log`);
    const log = createWriteStream(logPath);
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      XMSG_HTTP_PORT: '0',
      XMSG_LOG_LEVEL: 'info',
      ...this.options.env,
    };
    const child = spawn(process.execPath, [...NODE_FLAGS, '--import', 'tsx', 'src/main.ts'], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    killOnExit(child);
    log.on('error', () => undefined);
    // 'close' rather than 'exit': it comes after the last output, so nothing is written to the log after its end.
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
      child.once('close', (code, signal) => res({ code, signal })),
    );
    this.run = { child, exited, log, logPath };
    child.stderr!.pipe(log, { end: false });

    // The port comes from the "xmsg started" log line (XMSG_HTTP_PORT=0 lets the OS pick a free one).
    const port = new Promise<number>((res, rej) => {
      let buffered = '';
      const onData = (chunk: Buffer): void => {
        log.write(chunk);
        buffered += chunk.toString('utf8');
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          if (!line.includes('"xmsg started"')) continue;
          try {
            res((JSON.parse(line) as { port: number }).port);
          } catch (err) {
            rej(err as Error);
          }
        }
        if (buffered.length > 1_000_000) buffered = '';
      };
      child.stdout!.on('data', onData);
      void exited.then(({ code, signal }) =>
        rej(new Error(`replica ${this.name} exited (code ${code}, signal ${signal}) before it started; see ${logPath}`)),
      );
      setTimeout(
        () => rej(new Error(`replica ${this.name} did not start within ${READY_TIMEOUT_MS} ms; see ${logPath}`)),
        READY_TIMEOUT_MS,
      ).unref();
    });
    try {
      this.port = await port;
      await this.waitReady();
    } catch (err) {
      this.kill();
      throw err;
    }
  }

  private async waitReady(): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (!this.alive) throw new Error(`replica ${this.name} exited while starting; see ${this.logPath}`);
      const ok = await fetch(`${this.baseUrl}/readyz`, { signal: AbortSignal.timeout(2000) }).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`replica ${this.name} not ready within ${READY_TIMEOUT_MS} ms; see ${this.logPath}`);
  }

  /** `kill -9`: no cleanup at all, as a crash or an OOM kill. Resolves once the process is gone. */
  async kill(): Promise<void> {
    const run = this.run;
    if (!run) return;
    if (this.alive) run.child.kill('SIGKILL');
    await run.exited;
    await new Promise<void>((r) => run.log.end(r));
  }

  /** SIGTERM (graceful stop), SIGKILL if it takes longer than STOP_GRACE_MS. */
  async stop(): Promise<void> {
    const run = this.run;
    if (!run) return;
    if (this.alive) {
      run.child.kill('SIGTERM');
      const timer = setTimeout(() => run.child.kill('SIGKILL'), STOP_GRACE_MS);
      await run.exited;
      clearTimeout(timer);
    }
    await new Promise<void>((r) => run.log.end(r));
  }

  /** How the current process ended, or undefined while it runs. */
  async exitStatus(): Promise<{ code: number | null; signal: NodeJS.Signals | null } | undefined> {
    if (!this.run || this.alive) return undefined;
    return this.run.exited;
  }
}
