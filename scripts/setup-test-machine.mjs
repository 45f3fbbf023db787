// `pnpm test` runs this first. The tests drive two programs a fresh machine lacks: Debian's
// chromium (/usr/bin/chromium, the browser tests through playwright-core, which downloads no
// browser) and redis-server (the Redis store tests). Present: nothing to do. Missing, as root on
// Debian or Ubuntu: installed with apt-get. Missing otherwise: a message saying how to install
// them, and a non-zero exit before anything is built.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What the tests need, how to tell it is there, and the Debian package that provides it. */
export const REQUIREMENTS = [
  { name: 'chromium', package: 'chromium', for: 'the browser tests', paths: () => ['/usr/bin/chromium'] },
  {
    name: 'redis-server',
    package: 'redis-server',
    for: 'the Redis store tests',
    // As the tests look for it: $REDIS_SERVER, Debian's path, else the PATH.
    paths: (env) => [env.REDIS_SERVER, '/usr/bin/redis-server', ...onPath('redis-server', env)],
  },
];

function onPath(command, env) {
  return (env.PATH ?? '')
    .split(delimiter)
    .filter(Boolean)
    .map((directory) => join(directory, command));
}

function isExecutable(path) {
  if (typeof path !== 'string' || path === '') return false;
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The decision, from facts only (tested without touching the machine):
 * `{ action: 'none' }`, `{ action: 'install', packages }` or `{ action: 'fail', message }`.
 */
export function planSetup({ missing, platform, isRoot, hasAptGet }) {
  if (missing.length === 0) return { action: 'none' };
  const packages = missing.map((requirement) => requirement.package);
  if (platform === 'linux' && isRoot && hasAptGet) return { action: 'install', packages };
  const list = missing.map((requirement) => `  - ${requirement.name}, for ${requirement.for}`).join('\n');
  const how =
    platform === 'linux' && hasAptGet
      ? `Install them as root (sudo apt-get install ${packages.join(' ')}), or run pnpm test as root, which installs them.`
      : `Install them so that ${missing.map((requirement) => requirement.name).join(' and ')} can be found where the tests look (see scripts/setup-test-machine.mjs); the tests expect Debian's layout.`;
  return { action: 'fail', message: `pnpm test needs programs this machine lacks:\n${list}\n${how}` };
}

/** The requirements none of whose candidate paths is an executable file. */
export function missingRequirements(env, requirements = REQUIREMENTS) {
  return requirements.filter((requirement) => !requirement.paths(env).some(isExecutable));
}

function run(command, args) {
  const result = spawnSync(command, args, {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`})`,
    );
  }
}

function main() {
  const env = process.env;
  const missing = missingRequirements(env);
  const plan = planSetup({
    missing,
    platform: process.platform,
    isRoot: typeof process.getuid === 'function' && process.getuid() === 0,
    hasAptGet: onPath('apt-get', env).some(isExecutable),
  });
  if (plan.action === 'none') return 0;
  if (plan.action === 'fail') {
    console.error(plan.message);
    return 1;
  }
  console.error(`Installing ${plan.packages.join(' and ')} with apt-get (needed by the tests)…`);
  run('apt-get', ['update', '-qq']);
  run('apt-get', ['install', '-y', '-qq', ...plan.packages]);
  const still = missingRequirements(env);
  if (still.length > 0) {
    console.error(
      `apt-get finished, but ${still.map((requirement) => requirement.name).join(' and ')} still cannot be found.`,
    );
    return 1;
  }
  return 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = main();
