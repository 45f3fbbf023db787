import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { COMMANDS, main } from './main.js';

let directory: string;

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'mcp-oauth-main-'));
});

afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

function collect(stream: PassThrough): () => string {
  let text = '';
  stream.setEncoding('utf8').on('data', (chunk: string) => {
    text += chunk;
  });
  return () => text;
}

async function run(...argv: string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out = collect(stdout);
  const err = collect(stderr);
  const stdin = new PassThrough();
  stdin.end();
  const code = await main({
    argv,
    env: { MCP_OAUTH_CONFIG_DIR: directory },
    stdin,
    stdout,
    stderr,
    signal: new AbortController().signal,
  });
  return { code, stdout: out(), stderr: err() };
}

describe('mcp-oauth', () => {
  it('prints the usage for --help (exit 0) and without a command (exit 2)', async () => {
    const help = await run('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: mcp-oauth <command> [options]');
    for (const command of COMMANDS)
      expect(help.stdout).toContain(`  ${command.name.padEnd(8)} ${command.summary}`);
    expect((await run()).code).toBe(2);
  });

  it.each(COMMANDS.map((command) => command.name))('has --help for %s', async (name) => {
    for (const args of [
      [name, '--help'],
      ['help', name],
    ]) {
      const result = await run(...args);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^Usage: mcp-oauth ${name}\\b`));
      expect(result.stdout).toContain('Global options:');
      expect(result.stderr).toBe('');
    }
  });

  it('prints the version', async () => {
    expect((await run('--version')).stdout).toMatch(/^\d+\.\d+\.\d+\S*\n$/);
  });

  it.each([
    [['frobnicate'], 'mcp-oauth: unknown command "frobnicate"'],
    [['login', 'https://mcp.example.com/mcp', '--bogus'], "Unknown option '--bogus'"],
    [['login'], 'mcp-oauth: a server URL is required'],
    [['login', 'not a url'], 'mcp-oauth: "not a url" is not a URL'],
    [['token', 'ftp://mcp.example.com/mcp'], 'mcp-oauth: a ftp: URL is not an MCP server'],
    [
      ['token', 'https://user:pass@mcp.example.com/mcp'],
      'mcp-oauth: the server URL must not contain credentials',
    ],
    [['call', 'https://mcp.example.com/mcp'], 'mcp-oauth: call needs a server URL and a tool name'],
    [['call', 'https://mcp.example.com/mcp', 'echo', '[1]'], 'the tool arguments must be a JSON object'],
    [['status', 'extra'], 'mcp-oauth: status takes no arguments'],
  ])('exits 2 with a message for %j', async (argv, message) => {
    const result = await run(...argv);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(message);
  });

  it('says so when no server was signed in to', async () => {
    const result = await run('status');
    expect(result).toEqual({
      code: 0,
      stdout: `Not signed in to any server. (Credentials directory: ${directory})\n`,
      stderr: '',
    });
    expect(JSON.parse((await run('status', '--json')).stdout)).toEqual({ directory, servers: [] });
  });

  it('refuses token for a server it never signed in to, without any request', async () => {
    const result = await run('token', 'https://mcp.example.com/mcp');
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      'mcp-oauth: not signed in to https://mcp.example.com/mcp\nSign in first: mcp-oauth login https://mcp.example.com/mcp\n',
    );
  });

  it('names a damaged servers.json instead of crashing', async () => {
    await writeFile(join(directory, 'servers.json'), '{ not json');
    const result = await run('status');
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `mcp-oauth: ${join(directory, 'servers.json')} is not valid JSON; delete it and sign in again\n`,
    );
  });

  it('takes --config-dir over $MCP_OAUTH_CONFIG_DIR', async () => {
    const other = join(directory, 'other');
    expect(JSON.parse((await run('status', '--json', '--config-dir', other)).stdout).directory).toBe(other);
  });
});
