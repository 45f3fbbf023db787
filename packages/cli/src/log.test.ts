import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createDebugLog, formatLine, oauthLogger } from './log.js';

const TIME = new Date('2026-01-02T03:04:05.678Z');

describe('formatLine', () => {
  it('writes time, level, event and key=value fields, quoting what needs it', () => {
    expect(
      formatLine(TIME, 'debug', 'discovery.as.found', {
        url: 'https://as.example.com/.well-known/oauth-authorization-server',
        scopes: ['a', 'b'],
        status: 200,
        note: 'two words',
        absent: undefined,
      }),
    ).toBe(
      '2026-01-02T03:04:05.678Z debug discovery.as.found url=https://as.example.com/.well-known/oauth-authorization-server scopes=["a","b"] status=200 note="two words"',
    );
  });
});

describe('createDebugLog', () => {
  it('writes nothing when disabled', () => {
    const stderr = new PassThrough();
    let written = '';
    stderr.on('data', (chunk: Buffer) => {
      written += chunk.toString();
    });
    createDebugLog({ enabled: false, stderr }).write('debug', 'x');
    expect(written).toBe('');
  });

  it('writes prefixed lines to stderr, and through the engine logger', () => {
    const stderr = new PassThrough();
    let written = '';
    stderr.setEncoding('utf8').on('data', (chunk: string) => {
      written += chunk;
    });
    const log = createDebugLog({ enabled: true, stderr, clock: () => TIME });
    oauthLogger(log).warn('session.revocation_failed', { hint: 'refresh_token', code: 'network_error' });
    expect(written).toBe(
      'mcp-oauth 2026-01-02T03:04:05.678Z warn session.revocation_failed hint=refresh_token code=network_error\n',
    );
  });

  it('appends to a file only the user can read, creating its directory', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'mcp-oauth-log-'));
    try {
      const file = join(directory, 'nested', 'debug.log');
      const log = createDebugLog({ enabled: true, file, stderr: new PassThrough(), clock: () => TIME });
      log.write('debug', 'one');
      log.write('debug', 'two', { n: 2 });
      expect(await readFile(file, 'utf8')).toBe(
        '2026-01-02T03:04:05.678Z debug one\n2026-01-02T03:04:05.678Z debug two n=2\n',
      );
      expect((await stat(file)).mode & 0o777).toBe(0o600);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
