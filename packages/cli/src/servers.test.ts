import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findServer, forgetServer, readServers, rememberServer } from './servers.js';

let directory: string;

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'mcp-oauth-servers-'));
});

afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('servers.json', () => {
  it('remembers, replaces and forgets servers, in a file only the user can read', async () => {
    const config = join(directory, 'config');
    expect(await readServers(config)).toEqual([]);
    await rememberServer(config, { url: 'https://a.example/mcp', method: 'browser', signedInAt: 1 });
    await rememberServer(config, { url: 'https://b.example/mcp', method: 'device', signedInAt: 2 });
    await rememberServer(config, { url: 'https://a.example/mcp', method: 'device', signedInAt: 3 });
    expect(await readServers(config)).toEqual([
      { url: 'https://b.example/mcp', method: 'device', signedInAt: 2 },
      { url: 'https://a.example/mcp', method: 'device', signedInAt: 3 },
    ]);
    expect(await findServer(config, 'https://b.example/mcp')).toEqual({
      url: 'https://b.example/mcp',
      method: 'device',
      signedInAt: 2,
    });
    expect((await stat(join(config, 'servers.json'))).mode & 0o777).toBe(0o600);
    expect(await forgetServer(config, 'https://b.example/mcp')).toBe(true);
    expect(await forgetServer(config, 'https://b.example/mcp')).toBe(false);
    expect(JSON.parse(await readFile(join(config, 'servers.json'), 'utf8'))).toEqual({
      version: 1,
      servers: [{ url: 'https://a.example/mcp', method: 'device', signedInAt: 3 }],
    });
  });

  it('skips entries it does not understand and refuses a file without a list', async () => {
    await writeFile(
      join(directory, 'servers.json'),
      JSON.stringify({ servers: [{ url: 'https://a.example/mcp', method: 'telepathy', signedInAt: 1 }, 42] }),
    );
    expect(await readServers(directory)).toEqual([]);
    await writeFile(join(directory, 'servers.json'), JSON.stringify({ version: 1 }));
    await expect(readServers(directory)).rejects.toThrow(
      'has no "servers" list; delete it and sign in again',
    );
  });
});
