/**
 * The servers the user signed in to, and how: `servers.json` beside the file stores. It holds no
 * credential — only the MCP server URL and the grant (browser or device) to use when the server
 * needs a new authorization, so that `proxy`, `tools` and `call` bring the user in the same way
 * `login` did. The tokens themselves are in the file stores.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export type LoginMethod = 'browser' | 'device';

export interface ServerEntry {
  /** The canonical MCP server URL (as the session names it). */
  readonly url: string;
  readonly method: LoginMethod;
  /** Milliseconds since the epoch of the last sign-in. */
  readonly signedInAt: number;
}

const FILE = 'servers.json';
const VERSION = 1;

function isEntry(value: unknown): value is ServerEntry {
  if (typeof value !== 'object' || value === null) return false;
  const entry = value as Record<string, unknown>;
  return (
    typeof entry.url === 'string' &&
    (entry.method === 'browser' || entry.method === 'device') &&
    typeof entry.signedInAt === 'number'
  );
}

/** The entries in `directory`, in the order they were added; a missing file is an empty list. */
export async function readServers(directory: string): Promise<ServerEntry[]> {
  let text: string;
  try {
    text = await readFile(join(directory, FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new Error(`could not read ${join(directory, FILE)}`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw new Error(`${join(directory, FILE)} is not valid JSON; delete it and sign in again`);
  }
  const servers = (document as { servers?: unknown } | null)?.servers;
  if (!Array.isArray(servers)) {
    throw new Error(`${join(directory, FILE)} has no "servers" list; delete it and sign in again`);
  }
  return servers.filter(isEntry);
}

async function writeServers(directory: string, servers: readonly ServerEntry[]): Promise<void> {
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const target = join(directory, FILE);
  const temporary = join(directory, `.${FILE}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(temporary, `${JSON.stringify({ version: VERSION, servers }, null, 2)}\n`, {
      mode: 0o600,
    });
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

export async function findServer(directory: string, url: string): Promise<ServerEntry | undefined> {
  return (await readServers(directory)).find((entry) => entry.url === url);
}

export async function rememberServer(directory: string, entry: ServerEntry): Promise<void> {
  const servers = (await readServers(directory)).filter((existing) => existing.url !== entry.url);
  await writeServers(directory, [...servers, entry]);
}

/** Removes `url`; says whether it was there. */
export async function forgetServer(directory: string, url: string): Promise<boolean> {
  const servers = await readServers(directory);
  const remaining = servers.filter((entry) => entry.url !== url);
  if (remaining.length === servers.length) return false;
  await writeServers(directory, remaining);
  return true;
}
