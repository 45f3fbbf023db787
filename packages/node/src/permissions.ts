/**
 * The store's files hold refresh tokens and client secrets, and what they say decides where those
 * are sent. Like ssh's `StrictModes`, the store refuses anything another local user could have
 * written (`store_failed`, naming the path and the fix, never a file's content):
 *
 * - the store directory and its subdirectories: owned by the user running the process (or root),
 *   not writable by group or others;
 * - every file read: owned by that user (or root), with no access at all for group or others;
 * - every directory above the store: owned by that user or root, and not writable by group or
 *   others unless it has the sticky bit (as `/tmp` does, where no one can rename another's entries).
 *
 * Directories the store creates are 0700 and files 0600. There is nothing to check on Windows,
 * where files have no POSIX owner or mode; ACLs there are the profile's.
 */
import type { Stats } from 'node:fs';
import { mkdir, realpath, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { OAuthClientError } from '@mcp-oauth/core';
import { storeFailed } from './errors.js';

const GROUP_OR_OTHERS_WRITE = 0o022;
const GROUP_OR_OTHERS_ANY = 0o077;
const STICKY = 0o1000;

/** The uid whose files the store trusts, or `undefined` where modes mean nothing (Windows). */
function currentUid(): number | undefined {
  if (process.platform === 'win32' || typeof process.getuid !== 'function') return undefined;
  return process.getuid();
}

function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

function ownerProblem(info: Stats, uid: number): string | undefined {
  if (info.uid === uid || info.uid === 0) return undefined;
  return `is owned by another user (uid ${info.uid}, not ${uid})`;
}

/** Why `info` (the store directory or one of its subdirectories) cannot be trusted, if it cannot. */
function directoryProblem(info: Stats, uid: number): string | undefined {
  if (!info.isDirectory()) return 'is not a directory';
  const owner = ownerProblem(info, uid);
  if (owner !== undefined) return owner;
  if ((info.mode & GROUP_OR_OTHERS_WRITE) !== 0) {
    return `is writable by group or others (mode ${octal(info.mode)}); run chmod 700 on it`;
  }
  return undefined;
}

/** Throws `store_failed` unless `info`, the stat of the store (sub)directory at `path`, is private. */
export function assertPrivateDirectory(path: string, info: Stats): void {
  const uid = currentUid();
  if (uid === undefined) return;
  const problem = directoryProblem(info, uid);
  if (problem !== undefined) throw refused(`the store directory ${path} ${problem}`);
}

/** Throws `store_failed` unless `info`, the stat of the store file at `path`, is private. */
export function assertPrivateFile(path: string, info: Stats): void {
  const uid = currentUid();
  if (uid === undefined) return;
  if (!info.isFile()) throw refused(`the store file ${path} is not a regular file`);
  const owner = ownerProblem(info, uid);
  if (owner !== undefined) throw refused(`the store file ${path} ${owner}; delete it`);
  if ((info.mode & GROUP_OR_OTHERS_ANY) !== 0) {
    throw refused(
      `the store file ${path} is open to group or others (mode ${octal(info.mode)}); run chmod 600 on it`,
    );
  }
}

/**
 * Creates the store directory (0700, parents too) when missing, resolves symbolic links once, and
 * checks it and every directory above it. Later operations use the resolved path, so a link
 * swapped afterwards cannot redirect them.
 */
export async function resolvePrivateDirectory(directory: string): Promise<string> {
  try {
    await mkdir(directory, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw storeFailed(`the store directory ${directory} could not be created`, error);
  }
  let resolved: string;
  try {
    resolved = await realpath(directory);
  } catch (error) {
    throw storeFailed(`the store directory ${directory} could not be resolved`, error);
  }
  const uid = currentUid();
  if (uid === undefined) return resolved;
  assertPrivateDirectory(resolved, await statOf(resolved, 'store directory'));
  for (let parent = dirname(resolved); ; parent = dirname(parent)) {
    const info = await statOf(parent, 'directory');
    const problem =
      ownerProblem(info, uid) ??
      ((info.mode & GROUP_OR_OTHERS_WRITE) !== 0 && (info.mode & STICKY) === 0
        ? `is writable by group or others (mode ${octal(info.mode)}) without the sticky bit, so another user could replace the store; run chmod go-w on it`
        : undefined);
    if (problem !== undefined) {
      throw refused(`the directory ${parent}, above the store directory ${resolved}, ${problem}`);
    }
    if (dirname(parent) === parent) return resolved;
  }
}

async function statOf(path: string, what: string): Promise<Stats> {
  try {
    return await stat(path);
  } catch (error) {
    throw storeFailed(`the ${what} ${path} could not be examined`, error);
  }
}

function refused(message: string): OAuthClientError {
  return storeFailed(`${message} (refused: another user could have written what the store holds)`);
}
