/**
 * One client process for the stored-state cases: an `OAuthSession` with `@mcp-oauth/node` file
 * stores (the built packages, as the suite itself uses them). Arguments: the store directory, the
 * MCP server URL, and where the process dies, if anywhere:
 *
 * - `before-set`: SIGKILL as the session is about to store the refreshed tokens;
 * - `mid-write`: SIGKILL after half of the new token file's bytes are on disk;
 * - `before-rename`: SIGKILL after the new token file is written in full, before it replaces the old;
 * - `none`: run to the end (the test's token endpoint may SIGKILL it from outside).
 *
 * It reports `ready`, waits for a message, asks for an access token and reports the outcome (the
 * error's code only). It never prints a token.
 */
import { fsyncSync, writeSync } from 'node:fs';
import fsPromises from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { sep } from 'node:path';

const [directory, serverUrl, dieAt = 'none'] = process.argv.slice(2);
const tokensDirectory = `${directory}${sep}tokens${sep}`;
const isTokenWrite = (path) => String(path).startsWith(tokensDirectory) && String(path).endsWith('.tmp');

function die() {
  process.kill(process.pid, 'SIGKILL');
  return new Promise(() => {});
}

if (dieAt === 'mid-write') {
  const open = fsPromises.open;
  fsPromises.open = async (path, ...rest) => {
    const handle = await open(path, ...rest);
    if (!isTokenWrite(path)) return handle;
    handle.writeFile = (data) => {
      const bytes = Buffer.from(data);
      writeSync(handle.fd, bytes, 0, Math.floor(bytes.length / 2));
      fsyncSync(handle.fd);
      return die();
    };
    return handle;
  };
}
if (dieAt === 'before-rename') {
  const rename = fsPromises.rename;
  fsPromises.rename = async (from, to) => (isTokenWrite(from) ? die() : rename(from, to));
}
// The file store imports these functions by name: make the named bindings see the patches.
syncBuiltinESMExports();

const { OAuthSession } = await import('@mcp-oauth/core');
const { createFetchHttpClient } = await import('@mcp-oauth/fetch');
const { createFileStores } = await import('@mcp-oauth/node');

const stores = createFileStores({ directory });
if (dieAt === 'before-set') {
  stores.tokens.set = () => die();
}
const session = new OAuthSession({ serverUrl, httpClient: createFetchHttpClient(), stores });

process.once('message', async () => {
  try {
    await session.getAccessToken();
    process.send({ type: 'done', info: session.getTokenInfo() });
  } catch (error) {
    process.send({ type: 'failed', code: error?.code ?? 'unexpected', name: error?.name });
  }
  process.disconnect();
});
process.send({ type: 'ready' });
