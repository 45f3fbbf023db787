/**
 * Child processes: the loopback server the overhead runs against, and the workers that need a
 * process of their own (a forced-GC heap reading, a restart over a persisted store). Each runs a
 * TypeScript module of this app through tsx and answers with one JSON line on stdout.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url));

/** Longest a worker may run before it is killed (a hang must not stall the whole run). */
const WORKER_TIMEOUT_MS = 180_000;

function spawnModule(module: string, args: readonly string[], nodeFlags: readonly string[]): ChildProcess {
  const script = fileURLToPath(new URL(module, import.meta.url));
  // stdin stays open while this process lives: a long-running child exits when it closes.
  return spawn(process.execPath, [...nodeFlags, '--import', 'tsx', script, ...args], {
    cwd: BENCH_DIR,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
}

/** Runs `module` to its end and returns the JSON of the last line it printed. */
export function runWorker<T>(module: string, input: unknown, nodeFlags: readonly string[] = []): Promise<T> {
  const child = spawnModule(module, [JSON.stringify(input)], nodeFlags);
  return new Promise<T>((resolve, reject) => {
    let last = '';
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.trim() !== '') last = line;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), WORKER_TIMEOUT_MS);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) {
        reject(new Error(`worker ${module} exited with ${code ?? signal}`));
        return;
      }
      try {
        resolve(JSON.parse(last) as T);
      } catch {
        reject(new Error(`worker ${module} printed no JSON result`));
      }
    });
  });
}

export interface RunningChild<T> {
  /** The JSON of the first line the child printed. */
  readonly ready: T;
  /** Writes `line` to the child's stdin and resolves with the JSON of the next line it prints. */
  ask<R>(line: string): Promise<R>;
  stop(): Promise<void>;
}

/** Starts a long-running `module` (a server, a worker that answers lines) and waits for its first line. */
export function startChild<T>(module: string, input: unknown): Promise<RunningChild<T>> {
  const child = spawnModule(module, [JSON.stringify(input)], []);
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  /** Who waits for the child's next line: the start, then each question in turn. */
  const waiting: Array<{ resolve(line: string): void; reject(error: Error): void }> = [];
  const next = () => new Promise<string>((resolve, reject) => waiting.push({ resolve, reject }));
  createInterface({ input: child.stdout! }).on('line', (line) => waiting.shift()?.resolve(line));
  const fail = (error: Error) => {
    for (const waiter of waiting.splice(0)) waiter.reject(error);
  };
  child.once('error', fail);
  exited.then(() => fail(new Error(`${module} exited`)));
  const ask = async <R>(line: string): Promise<R> => {
    const answer = next();
    child.stdin!.write(`${line}\n`);
    return JSON.parse(await answer) as R;
  };
  return next()
    .then((line) => ({ ready: JSON.parse(line) as T, ask, stop }))
    .catch(async (error: unknown) => {
      await stop();
      throw new Error(`${module} did not start`, { cause: error });
    });
}
