/**
 * A directory laid out as a user's project after `npm install`: the published packages unpacked
 * from the tarballs `pnpm pack` makes (so `files`, `exports` and the rewritten `workspace:`
 * ranges are those users get), and each third-party module linked at the top of `node_modules`,
 * where the packages' own imports find it — not the versions in this workspace's package folders.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PUBLISHED = ['core', 'fetch', 'ky', 'axios', 'got', 'node', 'redis', 'cli'] as const;
export type PublishedPackage = (typeof PUBLISHED)[number];

/** The monorepo's `packages` folder. */
export const PACKAGES_DIRECTORY = join(dirname(fileURLToPath(import.meta.url)), '../..');

let tarballs: Map<PublishedPackage, string> | undefined;
let packsDirectory: string | undefined;

/** Removes the tarballs of this test file (call it in `afterAll`). */
export function removePacks(): void {
  if (packsDirectory !== undefined) rmSync(packsDirectory, { recursive: true, force: true });
  packsDirectory = undefined;
  tarballs = undefined;
}

/** Packs every published package once per test file (they must have been built). */
function packAll(): Map<PublishedPackage, string> {
  if (tarballs !== undefined) return tarballs;
  const destination = mkdtempSync(join(tmpdir(), 'mcp-oauth-packs-'));
  packsDirectory = destination;
  tarballs = new Map();
  for (const name of PUBLISHED) {
    const before = new Set(readdirSync(destination));
    execFileSync('pnpm', ['pack', '--pack-destination', destination], {
      cwd: join(PACKAGES_DIRECTORY, name),
      stdio: 'ignore',
    });
    const made = readdirSync(destination).find((file) => !before.has(file));
    if (made === undefined) throw new Error(`pnpm pack made no tarball for @mcp-oauth/${name}`);
    tarballs.set(name, join(destination, made));
  }
  return tarballs;
}

/**
 * A fresh project directory with every published package installed from its tarball, their own
 * dependencies, and `modules` (name → the folder of an installed module: the peers and whatever
 * the project itself uses) linked into its `node_modules`.
 */
export function installPacked(modules: Readonly<Record<string, string>>): string {
  const project = mkdtempSync(join(tmpdir(), 'mcp-oauth-consumer-'));
  const links = new Map<string, string>();
  for (const [name, tarball] of packAll()) {
    const target = join(project, 'node_modules', '@mcp-oauth', name);
    mkdirSync(target, { recursive: true });
    execFileSync('tar', ['-xzf', tarball, '-C', target, '--strip-components=1']);
    const manifest = JSON.parse(readFileSync(join(target, 'package.json'), 'utf8'));
    for (const dependency of Object.keys(manifest.dependencies ?? {})) {
      if (!dependency.startsWith('@mcp-oauth/')) links.set(dependency, moduleFolder(dependency, name));
    }
  }
  for (const [name, folder] of Object.entries(modules)) links.set(name, folder);
  for (const [name, folder] of links) {
    const link = join(project, 'node_modules', name);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(folder, link, 'dir');
  }
  return project;
}

/** The folder of `name` as installed for the workspace package `from` (e.g. `ky` for `packages/ky`). */
export function moduleFolder(name: string, from = 'compat'): string {
  return join(PACKAGES_DIRECTORY, from, 'node_modules', name);
}
