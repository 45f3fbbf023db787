// A whole session's lines (discovery to step-up, no secret) are tested in packages/compat, where
// the fetch adapter is installed beside this package.
import { describe, expect, it } from 'vitest';
import { type ConsoleLoggerOptions, createConsoleLogger } from './console-logger.js';

function capture(options: ConsoleLoggerOptions = {}) {
  const lines: string[] = [];
  const logger = createConsoleLogger({
    env: {},
    timestamps: false,
    stream: { write: (text: string) => lines.push(text) },
    ...options,
  });
  return { logger, lines };
}

describe('createConsoleLogger: levels and DEBUG', () => {
  it('writes warnings only by default', () => {
    const { logger, lines } = capture();
    logger.debug('session.refresh', { issuer: 'https://as.example' });
    logger.warn('session.revocation_failed', { hint: 'refresh_token', code: 'network_error' });
    expect(lines).toEqual([
      'mcp-oauth:session warn session.revocation_failed hint=refresh_token code=network_error\n',
    ]);
  });

  it('writes every event at level debug', () => {
    const { logger, lines } = capture({ level: 'debug' });
    logger.debug('session.refresh', { issuer: 'https://as.example' });
    logger.warn('discovery.pkce_metadata_missing', { issuer: 'https://as.example' });
    expect(lines).toEqual([
      'mcp-oauth:session debug session.refresh issuer=https://as.example\n',
      'mcp-oauth:discovery warn discovery.pkce_metadata_missing issuer=https://as.example\n',
    ]);
  });

  it('writes nothing when silent, whatever DEBUG says', () => {
    const { logger, lines } = capture({ level: 'silent', env: { DEBUG: '*' } });
    logger.debug('session.refresh', { issuer: 'https://as.example' });
    logger.warn('session.revocation_failed', { hint: 'refresh_token', code: 'network_error' });
    expect(lines).toEqual([]);
  });

  it.each([
    ['mcp-oauth*', ['discovery.as.found', 'session.refresh', 'token.request']],
    ['mcp-oauth:session', ['session.refresh']],
    ['mcp-oauth*,-mcp-oauth:token', ['discovery.as.found', 'session.refresh']],
    ['express:*', []],
  ])('DEBUG=%s adds the debug lines of the areas it names', (debug, expected) => {
    const { logger, lines } = capture({ env: { DEBUG: debug } });
    for (const event of ['discovery.as.found', 'session.refresh', 'token.request']) logger.debug(event, {});
    expect(lines.map((line) => line.trimEnd().split(' ')[2])).toEqual(expected);
  });

  it('reads DEBUG from process.env by default', () => {
    const previous = process.env.DEBUG;
    process.env.DEBUG = 'mcp-oauth:session';
    try {
      const lines: string[] = [];
      const logger = createConsoleLogger({
        timestamps: false,
        stream: { write: (text) => lines.push(text) },
      });
      logger.debug('session.refresh', {});
      logger.debug('token.request', {});
      expect(lines).toEqual(['mcp-oauth:session debug session.refresh\n']);
    } finally {
      if (previous === undefined) delete process.env.DEBUG;
      else process.env.DEBUG = previous;
    }
  });

  it('starts lines with the time, and colours them on a terminal unless NO_COLOR is set', () => {
    const at = Date.UTC(2026, 4, 1, 9, 30, 12, 345);
    const plain = capture({ timestamps: true, clock: () => at, level: 'debug' });
    plain.logger.debug('session.refresh', {});
    expect(plain.lines).toEqual(['2026-05-01T09:30:12.345Z mcp-oauth:session debug session.refresh\n']);

    const lines: string[] = [];
    const terminal = { isTTY: true, write: (text: string) => lines.push(text) };
    createConsoleLogger({ stream: terminal, env: {}, timestamps: false }).warn('session.refresh', {});
    createConsoleLogger({ stream: terminal, env: { NO_COLOR: '1' }, timestamps: false }).warn(
      'session.refresh',
      {},
    );
    expect(lines[0]).toBe('\u001b[33mmcp-oauth:session\u001b[0m \u001b[33mwarn\u001b[0m session.refresh\n');
    expect(lines[1]).toBe('mcp-oauth:session warn session.refresh\n');
  });

  it('never throws, even when its stream does', () => {
    const logger = createConsoleLogger({
      env: {},
      stream: {
        write() {
          throw new Error('EPIPE');
        },
      },
    });
    expect(() => logger.warn('session.refresh', {})).not.toThrow();
  });

  it('refuses an unknown level', () => {
    expect(() => createConsoleLogger({ level: 'verbose' as 'debug' })).toThrow(/level must be one of/);
  });
});
