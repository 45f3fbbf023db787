/**
 * A lock shared by every process that can reach a directory: the lock is a file created with
 * `O_EXCL` (`wx`), holding the owner's pid, host and a random id. While held, its modification time
 * is refreshed; a lock whose owner is gone (same host, pid not alive) or that has not been refreshed
 * for `staleMs` is taken over. Waiting is bounded by `timeoutMs`, then `store_failed`.
 */
import { randomUUID } from 'node:crypto';
import { open, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { storeFailed, systemErrorCode } from './errors.js';
import { removeFile } from './json-file.js';

export interface FileLockOptions {
  /** Give up waiting after this long. */
  readonly timeoutMs: number;
  /** A lock not refreshed for this long belongs to a hung or vanished process. */
  readonly staleMs: number;
}

interface LockOwner {
  readonly pid: number;
  readonly hostname: string;
  readonly id: string;
}

/** What a lock file held when it was read: `identity` changes whenever the file is replaced or refreshed. */
interface LockSnapshot {
  readonly identity: string;
  readonly owner: LockOwner | undefined;
  readonly ageMs: number;
}

/** Runs `task` while holding the lock file at `path`; the lock is released however `task` ends. */
export async function withFileLock<R>(
  path: string,
  options: FileLockOptions,
  task: () => Promise<R>,
): Promise<R> {
  const id = await acquire(path, options);
  const heartbeat = setInterval(
    () => {
      const now = new Date();
      utimes(path, now, now).catch(() => {});
    },
    Math.max(10, options.staleMs / 4),
  );
  heartbeat.unref();
  try {
    return await task();
  } finally {
    clearInterval(heartbeat);
    await release(path, id);
  }
}

async function acquire(path: string, options: FileLockOptions): Promise<string> {
  const owner: LockOwner = { pid: process.pid, hostname: hostname(), id: randomUUID() };
  const content = JSON.stringify({ ...owner, acquiredAt: new Date().toISOString() });
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    if (await tryCreate(path, content)) return owner.id;
    const holder = await readLock(path);
    if (holder === undefined) continue; // released between our two calls
    if (isStale(holder, options.staleMs) && (await breakLock(path, holder, options.staleMs))) continue;
    if (Date.now() - started >= options.timeoutMs) {
      const by =
        holder.owner === undefined
          ? ''
          : ` (held by process ${holder.owner.pid} on ${holder.owner.hostname})`;
      throw storeFailed(
        `timed out after ${options.timeoutMs} ms waiting for the lock file ${path}${by}; ` +
          'delete it if no other process is using the store',
      );
    }
    await delay(backoff(attempt));
  }
}

async function tryCreate(path: string, content: string): Promise<boolean> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'wx', 0o600);
  } catch (error) {
    if (systemErrorCode(error) === 'EEXIST') return false;
    throw storeFailed(`the lock file ${path} could not be created`, error);
  }
  try {
    await handle.writeFile(content, 'utf8');
  } catch (error) {
    await handle.close().catch(() => {});
    await removeFile(path).catch(() => {});
    throw storeFailed(`the lock file ${path} could not be written`, error);
  }
  await handle.close();
  return true;
}

/** Reads content and timestamps through one handle, so both describe the same file. */
async function readLock(path: string): Promise<LockSnapshot | undefined> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if (systemErrorCode(error) === 'ENOENT') return undefined;
    throw storeFailed(`the lock file ${path} could not be read`, error);
  }
  try {
    const info = await handle.stat();
    const raw = await handle.readFile('utf8');
    return {
      identity: `${info.ino}:${info.mtimeMs}:${raw}`,
      owner: parseOwner(raw),
      ageMs: Date.now() - info.mtimeMs,
    };
  } finally {
    await handle.close();
  }
}

function parseOwner(raw: string): LockOwner | undefined {
  try {
    const value: unknown = JSON.parse(raw);
    if (typeof value !== 'object' || value === null) return undefined;
    const { pid, hostname, id } = value as Record<string, unknown>;
    if (!Number.isInteger(pid) || typeof hostname !== 'string' || typeof id !== 'string') return undefined;
    return { pid: pid as number, hostname, id };
  } catch {
    // An owner between creating and writing the file, or a damaged file: only its age counts.
    return undefined;
  }
}

function isStale(holder: LockSnapshot, staleMs: number): boolean {
  if (holder.ageMs > staleMs) return true;
  const owner = holder.owner;
  return owner !== undefined && owner.hostname === hostname() && !isAlive(owner.pid);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return systemErrorCode(error) === 'EPERM';
  }
}

/**
 * Removes a stale lock, unless it changed since it was judged stale. A short-lived guard file keeps
 * two breakers from interleaving (one removing the lock the other just created); a guard left by
 * a breaker that died is itself removed once older than `staleMs`.
 */
async function breakLock(path: string, stale: LockSnapshot, staleMs: number): Promise<boolean> {
  const guard = `${path}.break`;
  if (!(await tryCreate(guard, String(process.pid)))) {
    const other = await readLock(guard);
    if (other !== undefined && other.ageMs > staleMs) await removeFile(guard);
    return false;
  }
  try {
    const current = await readLock(path);
    if (current === undefined) return true;
    if (current.identity !== stale.identity) return false;
    await removeFile(path);
    return true;
  } finally {
    await removeFile(guard).catch(() => {});
  }
}

/** Removes the lock if it is still ours (it is not when another process judged it stale and took it). */
async function release(path: string, id: string): Promise<void> {
  try {
    const current = await readLock(path);
    if (current?.owner?.id === id) await removeFile(path);
  } catch {
    // Left behind, the lock is taken over once stale; the task's own outcome matters more.
  }
}

/** 5, 10, 20, 40, 80, 100, 100… ms, each with jitter so waiting processes do not poll in step. */
function backoff(attempt: number): number {
  const base = Math.min(100, 5 * 2 ** attempt);
  return base / 2 + Math.random() * (base / 2);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
