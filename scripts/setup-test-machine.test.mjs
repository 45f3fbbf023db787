import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { missingRequirements, planSetup, REQUIREMENTS } from './setup-test-machine.mjs';

const [chromium, redis] = REQUIREMENTS;

describe('planSetup', () => {
  const linuxRoot = { platform: 'linux', isRoot: true, hasAptGet: true };
  it.each([
    ['everything present', { ...linuxRoot, missing: [] }, { action: 'none' }],
    ['present, not root', { ...linuxRoot, isRoot: false, missing: [] }, { action: 'none' }],
    [
      'present, on macOS',
      { platform: 'darwin', isRoot: false, hasAptGet: false, missing: [] },
      { action: 'none' },
    ],
    [
      'chromium absent, root',
      { ...linuxRoot, missing: [chromium] },
      { action: 'install', packages: ['chromium'] },
    ],
    [
      'both absent, root',
      { ...linuxRoot, missing: [chromium, redis] },
      { action: 'install', packages: ['chromium', 'redis-server'] },
    ],
  ])('%s', (_, facts, plan) => {
    expect(planSetup(facts)).toEqual(plan);
  });

  it('fails with the apt-get command when not root', () => {
    const plan = planSetup({ platform: 'linux', isRoot: false, hasAptGet: true, missing: [chromium, redis] });
    expect(plan.action).toBe('fail');
    expect(plan.message).toContain('chromium, for the browser tests');
    expect(plan.message).toContain('redis-server, for the Redis store tests');
    expect(plan.message).toContain('sudo apt-get install chromium redis-server');
    expect(plan.message).toContain('run pnpm test as root');
  });

  it.each([
    ['without apt-get', { platform: 'linux', isRoot: true, hasAptGet: false }],
    ['on macOS', { platform: 'darwin', isRoot: true, hasAptGet: false }],
  ])('fails %s, naming what is missing', (_, facts) => {
    const plan = planSetup({ ...facts, missing: [chromium] });
    expect(plan.action).toBe('fail');
    expect(plan.message).toContain('chromium, for the browser tests');
    expect(plan.message).not.toContain('redis-server');
    expect(plan.message).not.toContain('apt-get install');
  });
});

describe('missingRequirements', () => {
  let directory;
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it('finds a program on its paths only when it is an executable file', () => {
    directory = mkdtempSync(join(tmpdir(), 'setup-test-machine-'));
    const executable = join(directory, 'tool');
    const notExecutable = join(directory, 'data');
    writeFileSync(executable, '#!/bin/sh\n');
    chmodSync(executable, 0o755);
    writeFileSync(notExecutable, '');
    const requirement = (name, paths) => ({ name, package: name, for: 'a test', paths: () => paths });
    const requirements = [
      requirement('present', [join(directory, 'absent'), executable]),
      requirement('absent', [join(directory, 'absent'), undefined, '']),
      requirement('not-executable', [notExecutable]),
    ];
    expect(missingRequirements({}, requirements).map((item) => item.name)).toEqual([
      'absent',
      'not-executable',
    ]);
  });

  it('looks for redis-server in REDIS_SERVER and on the PATH, as the tests do', () => {
    directory = mkdtempSync(join(tmpdir(), 'setup-test-machine-'));
    const server = join(directory, 'redis-server');
    writeFileSync(server, '#!/bin/sh\n');
    chmodSync(server, 0o755);
    expect(redis.paths({ REDIS_SERVER: server, PATH: '' })).toContain(server);
    expect(redis.paths({ PATH: directory })).toContain(server);
    expect(missingRequirements({ REDIS_SERVER: server, PATH: '' }, [redis])).toEqual([]);
  });
});

it('passes on this machine, where the tests are about to run', () => {
  const script = fileURLToPath(new URL('./setup-test-machine.mjs', import.meta.url));
  const result = spawnSync(process.execPath, [script], { encoding: 'utf8' });
  expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
});
