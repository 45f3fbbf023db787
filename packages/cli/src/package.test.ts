/**
 * What `npx mcp-oauth` runs is the packed tarball, not this directory: pack the CLI and the
 * workspace packages it depends on (as `pnpm publish` would, with `workspace:` ranges rewritten),
 * install the tarballs with npm into an empty project (its other dependencies from the registry),
 * and run `npx mcp-oauth --help` there.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';

const run = promisify(execFile);
const PACKAGES = fileURLToPath(new URL('../..', import.meta.url));
const WORKSPACE_PACKAGES = ['core', 'fetch', 'node', 'cli'];

let directory: string;
let project: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'mcp-oauth-pack-'));
  for (const name of WORKSPACE_PACKAGES) {
    await run('pnpm', ['pack', '--pack-destination', directory], { cwd: join(PACKAGES, name) });
  }
  project = join(directory, 'project');
  await mkdir(project);
  await writeFile(
    join(project, 'package.json'),
    JSON.stringify({ name: 'project', version: '1.0.0', private: true }),
  );
  const tarballs = (await readdir(directory))
    .filter((file) => file.endsWith('.tgz'))
    .map((file) => join(directory, file));
  expect(tarballs).toHaveLength(WORKSPACE_PACKAGES.length);
  await run(
    'npm',
    ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', ...tarballs],
    {
      cwd: project,
      env: { ...process.env, npm_config_update_notifier: 'false' },
    },
  );
}, 300_000);

afterAll(async () => {
  if (directory !== undefined) await rm(directory, { recursive: true, force: true });
});

it('npx mcp-oauth --help works from the installed tarball', async () => {
  const { stdout } = await run('npx', ['--no-install', 'mcp-oauth', '--help'], { cwd: project });
  expect(stdout).toContain('Usage: mcp-oauth <command> [options]');
  expect(stdout).toContain('proxy    bridge stdio to an OAuth-protected Streamable HTTP MCP server');
});

it('runs a command that loads every dependency, from the installed tarball', async () => {
  const { stdout } = await run('npx', ['--no-install', 'mcp-oauth', 'status', '--json'], {
    cwd: project,
    env: { ...process.env, MCP_OAUTH_CONFIG_DIR: join(directory, 'config') },
  });
  expect(JSON.parse(stdout)).toEqual({ directory: join(directory, 'config'), servers: [] });
});

it('ships the executable, the README and nothing from src', async () => {
  const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: join(PACKAGES, 'cli'),
  });
  const [{ files }] = JSON.parse(stdout) as [{ files: { path: string }[] }];
  const paths = files.map((file) => file.path).sort();
  expect(paths).toEqual(['README.md', 'dist/cli.js', 'package.json']);
});
