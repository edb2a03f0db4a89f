import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { freePort, killOnExit } from './processes.js';

export interface AnvilOptions {
  chainId: number;
  /** Fixed port; by default a free one is picked (anvil itself does not accept port 0). */
  port?: number;
  /** Seconds between blocks (interval mining); by default every transaction is mined at once. */
  blockTime?: number;
  extraArgs?: string[];
}

export interface AnvilNode {
  chainId: number;
  port: number;
  rpcUrl: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

const PLATFORM_PACKAGES: Record<string, string> = {
  'linux-x64': 'linux-amd64',
  'linux-arm64': 'linux-arm64',
  'darwin-arm64': 'darwin-arm64',
  'darwin-x64': 'darwin-amd64',
};

const READY_TIMEOUT_MS = 15_000;
const PORT_ATTEMPTS = 5;
const STDERR_KEEP_CHARS = 4_000;

/** The anvil binary of the platform package that @foundry-rs/anvil installs as an optional dependency. */
export function anvilBinaryPath(): string {
  const target = PLATFORM_PACKAGES[`${process.platform}-${process.arch}`];
  if (!target) throw new Error(`no anvil binary package for ${process.platform}/${process.arch}`);
  const pkg = `@foundry-rs/anvil-${target}`;
  try {
    return join(dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`)), 'bin', 'anvil');
  } catch {
    throw new Error(`${pkg} is not installed (it is an optional dependency of @foundry-rs/anvil)`);
  }
}

export async function startAnvil(options: AnvilOptions): Promise<AnvilNode> {
  // A port picked free can be taken by someone else before anvil binds it; then anvil exits and we try another.
  const attempts = options.port === undefined ? PORT_ATTEMPTS : 1;
  let lastError: Error | undefined;
  for (let i = 0; i < attempts; i++) {
    const port = options.port ?? (await freePort());
    try {
      return await spawnAnvil(options, port);
    } catch (err) {
      if (!(err instanceof PortInUseError)) throw err;
      lastError = err;
    }
  }
  throw lastError;
}

class PortInUseError extends Error {}

async function spawnAnvil(options: AnvilOptions, port: number): Promise<AnvilNode> {
  const args = ['--host', '127.0.0.1', '--port', String(port), '--chain-id', String(options.chainId), '--silent'];
  if (options.blockTime !== undefined) args.push('--block-time', String(options.blockTime));
  args.push(...(options.extraArgs ?? []));

  // Its own process group: a terminal's Ctrl-C reaches only its parent, which stops the chains in its own order
  // (the demo deletes its Redis keys while xmsg can still stop cleanly); killOnExit ends it however the parent ends.
  const child = spawn(anvilBinaryPath(), args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let spawnError: Error | undefined;
  child.once('error', (err) => (spawnError = err));
  killOnExit(child);
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_KEEP_CHARS);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // 'close' comes after the last stderr chunk, so an early exit is reported with anvil's reason.
  let closed = false;
  child.once('close', () => (closed = true));
  const rpcUrl = `http://127.0.0.1:${port}`;

  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const killTimer = setTimeout(() => child.kill('SIGKILL'), 2_000);
    await exited;
    clearTimeout(killTimer);
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (spawnError) throw new Error(`could not start anvil: ${spawnError.message}`);
    if (closed) {
      const message = `anvil (chain ${options.chainId}, port ${port}) exited early: ${stderr.trim() || '(no stderr)'}`;
      throw /address already in use/i.test(stderr) ? new PortInUseError(message) : new Error(message);
    }
    if (await answersChainId(rpcUrl, options.chainId)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `anvil (chain ${options.chainId}, port ${port}) not ready after ${READY_TIMEOUT_MS} ms: ${stderr.trim() || '(no stderr)'}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { chainId: options.chainId, port, rpcUrl, process: child, stop };
}

async function answersChainId(rpcUrl: string, chainId: number): Promise<boolean> {
  try {
    const res = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      signal: AbortSignal.timeout(1_000),
    });
    const body = (await res.json()) as { result?: string };
    // Another process squatting on the port would answer with its own chain id.
    return body.result !== undefined && Number(body.result) === chainId;
  } catch {
    return false;
  }
}
