/**
 * A local user against the `@mcp-oauth/node` file store. The store's files decide where refresh
 * tokens and client secrets go, so a store directory that others can write, or a file another user
 * wrote, is refused before anything in it is used (ssh's `StrictModes`): `store_failed`, naming the
 * path, and nothing sent anywhere on its strength.
 */
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFileStores } from '@mcp-oauth/node';
import { afterEach, describe, expect, it } from 'vitest';
import { expectOAuthError, rejection } from './canary.js';
import { type Scenario, useScenarios } from './scenario.js';

const POSIX = process.platform !== 'win32';
/** Files of another user take root to create (the CI runs as root). */
const ROOT = POSIX && process.getuid?.() === 0;
const ATTACKER = 65534;

const start = useScenarios();
const directories: string[] = [];
afterEach(async () => {
  await Promise.all(directories.splice(0).map((path) => rm(path, { recursive: true, force: true })));
});

async function storeDirectory(): Promise<string> {
  const parent = await mkdtemp(join(tmpdir(), 'mcp-oauth-permissions-'));
  directories.push(parent);
  return join(parent, 'store');
}

async function onlyJson(directory: string, store: string): Promise<string> {
  const [name] = (await readdir(join(directory, store))).filter((file) => file.endsWith('.json'));
  return join(directory, store, name!);
}

/**
 * The attack of the review: a first run stored discovery, client and tokens; a local user who can
 * write to the store directory replaces the discovery record with one whose token endpoint is
 * theirs, so the next refresh would carry the refresh token and the client secret there.
 */
async function plantDiscoveryRecord(s: Scenario, directory: string): Promise<string> {
  await s.authorize(s.session({ stores: createFileStores({ directory }) }));
  const path = await onlyJson(directory, 'discovery');
  const record = JSON.parse(await readFile(path, 'utf8')) as {
    value: { authorizationServerMetadata: Record<string, unknown> };
  };
  record.value.authorizationServerMetadata.token_endpoint = s.other.url('/steal');
  await rm(path);
  await writeFile(path, JSON.stringify(record), { mode: 0o644 });
  await chmod(path, 0o644);
  // The access token expires: the next request refreshes at the recorded token endpoint.
  s.validAccessTokens.clear();
  return path;
}

async function expectRefusedWithoutUse(s: Scenario, directory: string, problem: RegExp): Promise<void> {
  const tokenRequestsBefore = s.tokenRequests().length;
  const session = s.session({ stores: createFileStores({ directory }) });
  for (let attempt = 0; attempt < 2; attempt++) {
    const error = await rejection(s.fetchFor(session)(s.mcpUrl));
    expectOAuthError(error, 'store_failed', s.logger, s.wireSecrets());
    expect((error as Error).message).toMatch(problem);
  }
  expect(s.other.connections).toBe(0);
  expect(s.tokenRequests()).toHaveLength(tokenRequestsBefore);
}

describe.runIf(POSIX)('a store another local user could write', () => {
  it('a store directory writable by others (0777), with a discovery record rewritten by someone else → store_failed; the refresh token goes nowhere', async () => {
    const s = await start();
    const directory = await storeDirectory();
    await plantDiscoveryRecord(s, directory);
    await chmod(directory, 0o777);
    await expectRefusedWithoutUse(
      s,
      directory,
      /store directory .* is writable by group or others \(mode 0777\)/,
    );
  });

  it('a store directory created 0777 before the first run → store_failed, and nothing is written to it', async () => {
    const s = await start();
    const directory = await storeDirectory();
    await mkdir(directory);
    await chmod(directory, 0o777);
    await expectRefusedWithoutUse(s, directory, /writable by group or others \(mode 0777\); run chmod 700/);
    expect(await readdir(directory)).toEqual([]);
    expect(s.authorizationServer.connections).toBe(0);
  });

  it('a discovery record others can write (0644 in a private directory) → store_failed naming it', async () => {
    const s = await start();
    const directory = await storeDirectory();
    const path = await plantDiscoveryRecord(s, directory);
    await expectRefusedWithoutUse(
      s,
      directory,
      new RegExp(`${path.replaceAll('/', '\\/')} is open to group or others`),
    );
  });

  it('a group-writable token file → store_failed', async () => {
    const s = await start();
    const directory = await storeDirectory();
    await s.authorize(s.session({ stores: createFileStores({ directory }) }));
    await chmod(await onlyJson(directory, 'tokens'), 0o660);
    await expectRefusedWithoutUse(
      s,
      directory,
      /store file .*tokens.* is open to group or others \(mode 0660\)/,
    );
  });

  it.runIf(ROOT)('a store directory owned by another user → store_failed', async () => {
    const s = await start();
    const directory = await storeDirectory();
    await plantDiscoveryRecord(s, directory);
    await chown(directory, ATTACKER, ATTACKER);
    await expectRefusedWithoutUse(s, directory, new RegExp(`owned by another user \\(uid ${ATTACKER}`));
  });

  it.runIf(ROOT)('a discovery record owned by another user, even 0600 → store_failed', async () => {
    const s = await start();
    const directory = await storeDirectory();
    const path = await plantDiscoveryRecord(s, directory);
    await chmod(path, 0o600);
    await chown(path, ATTACKER, ATTACKER);
    await expectRefusedWithoutUse(s, directory, new RegExp(`owned by another user \\(uid ${ATTACKER}`));
  });

  it('the honest store keeps working: the same steps with private modes refresh at the real server', async () => {
    const s = await start();
    const directory = await storeDirectory();
    await s.authorize(s.session({ stores: createFileStores({ directory }) }));
    s.validAccessTokens.clear();
    const response = await s.fetchFor(s.session({ stores: createFileStores({ directory }) }))(s.mcpUrl);
    expect(response.status).toBe(200);
    expect(s.tokenRequests('refresh_token')).toHaveLength(1);
  });
});
