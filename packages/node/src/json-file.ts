/**
 * Reading and writing one JSON file safely: writes go to a temporary file in the same directory
 * (mode 0600), are flushed, then renamed over the target, so a reader sees the old content or the
 * new, never a torn file. A file that does not parse is reported, never silently replaced.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { OAuthClientError } from '@mcp-oauth/core';
import { storeFailed, systemErrorCode } from './errors.js';
import { assertPrivateDirectory, assertPrivateFile } from './permissions.js';

/**
 * Creates a directory of the store with mode 0700 when missing (its parent, the checked store
 * directory, exists), and refuses one another user owns or could write to.
 */
export async function ensureDirectory(directory: string): Promise<void> {
  try {
    await mkdir(directory, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw storeFailed(`the store directory ${directory} could not be created`, error);
  }
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(directory);
  } catch (error) {
    throw storeFailed(`the store directory ${directory} could not be examined`, error);
  }
  assertPrivateDirectory(directory, info);
}

/** For reads: false when the directory does not exist (nothing to read), else checked as above. */
export async function checkDirectory(directory: string): Promise<boolean> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(directory);
  } catch (error) {
    if (systemErrorCode(error) === 'ENOENT') return false;
    throw storeFailed(`the store directory ${directory} could not be examined`, error);
  }
  assertPrivateDirectory(directory, info);
  return true;
}

/**
 * The parsed content, or `undefined` when the file does not exist. The file is checked through
 * the handle it is read from, so what is checked is what is read.
 */
export async function readJsonFile(path: string): Promise<unknown> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if (systemErrorCode(error) === 'ENOENT') return undefined;
    throw storeFailed(`the store file ${path} could not be read`, error);
  }
  let text: string;
  try {
    let info: Awaited<ReturnType<typeof handle.stat>>;
    try {
      info = await handle.stat();
    } catch (error) {
      throw storeFailed(`the store file ${path} could not be examined`, error);
    }
    assertPrivateFile(path, info);
    try {
      text = await handle.readFile('utf8');
    } catch (error) {
      throw storeFailed(`the store file ${path} could not be read`, error);
    }
  } finally {
    await handle.close().catch(() => {});
  }
  try {
    return JSON.parse(text);
  } catch {
    throw corruptFile(path);
  }
}

export function corruptFile(path: string): OAuthClientError {
  return storeFailed(
    `the store file ${path} is corrupt or truncated; delete it (you may have to authorize again)`,
  );
}

export async function writeJsonFile(path: string, value: unknown): Promise<void> {
  const directory = dirname(path);
  await ensureDirectory(directory);
  const temporary = join(directory, `.${basename(path)}.${randomBytes(8).toString('hex')}.tmp`);
  try {
    const handle = await open(temporary, 'wx', 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(value, null, 2)}\n`, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await removeFile(temporary).catch(() => {});
    throw storeFailed(`the store file ${path} could not be written`, error);
  }
  await syncDirectory(directory);
}

/**
 * Removes temporary files that a process killed mid-write left behind. Only files older than
 * `minimumAgeMs` go, so a write in progress elsewhere is never disturbed. Best effort.
 */
export async function sweepTemporaryFiles(directory: string, minimumAgeMs = 60_000): Promise<number> {
  let names: string[];
  try {
    names = await readdir(directory);
  } catch {
    return 0;
  }
  const now = Date.now();
  let removed = 0;
  for (const name of names) {
    if (!name.startsWith('.') || !name.endsWith('.tmp')) continue;
    const path = join(directory, name);
    try {
      if (now - (await stat(path)).mtimeMs < minimumAgeMs) continue;
      await unlink(path);
      removed++;
    } catch {
      // Renamed or removed by its writer or another sweeper meanwhile.
    }
  }
  return removed;
}

/** Deletes a file; a missing file is not an error. */
export async function removeFile(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if (systemErrorCode(error) !== 'ENOENT')
      throw storeFailed(`the store file ${path} could not be deleted`, error);
  }
}

/** Makes the rename durable where the platform allows opening a directory (not on Windows). */
async function syncDirectory(directory: string): Promise<void> {
  if (process.platform === 'win32') return;
  try {
    const handle = await open(directory, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Best effort: some file systems refuse to fsync a directory.
  }
}
