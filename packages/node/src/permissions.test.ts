import type { Stats } from 'node:fs';
import { isOAuthClientError } from '@mcp-oauth/core';
import { describe, expect, it } from 'vitest';
import { assertPrivateDirectory, assertPrivateFile } from './permissions.js';

const POSIX = process.platform !== 'win32';
const ME = POSIX ? process.getuid!() : 0;
/** A uid that is neither this process's nor root's. */
const OTHER = ME === 65534 ? 65533 : 65534;

/** The fields of `fs.Stats` the checks read; runs the owner cases without root. */
function stats(kind: 'file' | 'directory', uid: number, mode: number): Stats {
  return {
    uid,
    mode: (kind === 'file' ? 0o100000 : 0o040000) | mode,
    isFile: () => kind === 'file',
    isDirectory: () => kind === 'directory',
  } as Stats;
}

function problemOf(run: () => void): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    expect(isOAuthClientError(error, 'store_failed')).toBe(true);
    return (error as Error).message;
  }
}

describe.runIf(POSIX)('assertPrivateDirectory', () => {
  it.each([
    [ME, '700'],
    [ME, '755'],
    [ME, '750'],
    [0, '700'],
  ])('accepts uid %i with mode %s', (uid, mode) => {
    expect(
      problemOf(() => assertPrivateDirectory('/s', stats('directory', uid, Number.parseInt(mode, 8)))),
    ).toBeUndefined();
  });

  it.each([
    [ME, '777', 'writable by group or others (mode 0777); run chmod 700'],
    [ME, '770', 'writable by group or others (mode 0770)'],
    [ME, '702', 'writable by group or others (mode 0702)'],
    [ME, '1777', 'writable by group or others (mode 1777)'],
    [OTHER, '700', `owned by another user (uid ${OTHER}, not ${ME})`],
  ])('refuses uid %i with mode %s', (uid, mode, problem) => {
    expect(
      problemOf(() => assertPrivateDirectory('/s', stats('directory', uid, Number.parseInt(mode, 8)))),
    ).toContain(`the store directory /s is ${problem}`);
  });

  it('refuses a file where a directory belongs', () => {
    expect(problemOf(() => assertPrivateDirectory('/s', stats('file', ME, 0o700)))).toContain(
      'is not a directory',
    );
  });
});

describe.runIf(POSIX)('assertPrivateFile', () => {
  it.each([
    [ME, '600'],
    [ME, '400'],
    [0, '600'],
  ])('accepts uid %i with mode %s', (uid, mode) => {
    expect(
      problemOf(() => assertPrivateFile('/s/f.json', stats('file', uid, Number.parseInt(mode, 8)))),
    ).toBeUndefined();
  });

  it.each([
    [ME, '644', 'open to group or others (mode 0644); run chmod 600'],
    [ME, '640', 'open to group or others (mode 0640)'],
    [ME, '604', 'open to group or others (mode 0604)'],
    [ME, '620', 'open to group or others (mode 0620)'],
    [OTHER, '600', `owned by another user (uid ${OTHER}, not ${ME}); delete it`],
  ])('refuses uid %i with mode %s', (uid, mode, problem) => {
    expect(
      problemOf(() => assertPrivateFile('/s/f.json', stats('file', uid, Number.parseInt(mode, 8)))),
    ).toContain(`the store file /s/f.json is ${problem}`);
  });

  it('refuses a directory or another kind of file where a store file belongs', () => {
    expect(problemOf(() => assertPrivateFile('/s/f.json', stats('directory', ME, 0o700)))).toContain(
      'is not a regular file',
    );
  });
});
