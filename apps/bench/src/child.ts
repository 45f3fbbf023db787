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
  stop(): Promise<void>;
}

/** Starts a long-running `module` (a server) and waits for its first line. */
export function startChild<T>(module: string, input: unknown): Promise<RunningChild<T>> {
  const child = spawnModule(module, [JSON.stringify(input)], []);
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      try {
        resolve({ ready: JSON.parse(line) as T, stop });
      } catch (error) {
        void stop();
        reject(error);
      }
    });
    child.once('error', reject);
    exited.then(() => reject(new Error(`${module} exited before it was ready`)));
  });
}
