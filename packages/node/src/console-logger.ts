/**
 * A logger for people: one line per event on stderr, such as
 *
 *   2026-05-01T09:30:12.345Z mcp-oauth:session debug session.refresh issuer=https://auth.example.com
 *
 * with secrets and query strings removed (see log-format.ts). Warnings are written by default;
 * `level: 'debug'`, or `DEBUG=mcp-oauth*` in the environment as for the `debug` package, adds the
 * step-by-step lines of discovery, registration, authorization, refresh and step-up.
 */
import type { OAuthLogger } from '@mcp-oauth/core';
import { namespaceOf, parseDebugNamespaces } from './debug-namespaces.js';
import { formatLogEvent } from './log-format.js';

/** `debug`: every event. `warn`: warnings (and the debug lines `DEBUG` enables). `silent`: nothing. */
export type LogLevel = 'debug' | 'warn' | 'silent';

export interface ConsoleLoggerOptions {
  /** The least severe level written. Default `warn`. */
  readonly level?: LogLevel;
  /** Where lines go. Default `process.stderr` (stdout may be a protocol, as for a stdio MCP server). */
  readonly stream?: { write(text: string): unknown; readonly isTTY?: boolean | undefined };
  /** Read for `DEBUG` and `NO_COLOR`. Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Colour the namespace and level. Default: when `stream` is a terminal and `NO_COLOR` is unset. */
  readonly colors?: boolean;
  /** Start each line with the time. Default `true`. */
  readonly timestamps?: boolean;
  /** Milliseconds since the epoch; injectable for tests. */
  readonly clock?: () => number;
}

const LEVELS = ['debug', 'warn', 'silent'] as const;
const COLOR = { debug: '\u001b[36m', warn: '\u001b[33m', dim: '\u001b[2m', reset: '\u001b[0m' };

/**
 * An `OAuthLogger` for the session's `logger` option that also takes an application's own events
 * (any name, any data).
 */
export interface ConsoleLogger {
  debug(event: string, data?: unknown): void;
  warn(event: string, data?: unknown): void;
}

/** A logger writing readable, secret-free lines. It never throws. */
export function createConsoleLogger(options: ConsoleLoggerOptions = {}): ConsoleLogger {
  const level = options.level ?? 'warn';
  if (!LEVELS.includes(level)) throw new TypeError(`level must be one of ${LEVELS.join(', ')}`);
  const env = options.env ?? process.env;
  const stream = options.stream ?? process.stderr;
  const colors = options.colors ?? (stream.isTTY === true && (env.NO_COLOR ?? '') === '');
  const timestamps = options.timestamps ?? true;
  const clock = options.clock ?? Date.now;
  const debugEnabled = parseDebugNamespaces(env.DEBUG);

  const write = (severity: 'debug' | 'warn', event: string, data: unknown) => {
    try {
      const namespace = namespaceOf(event);
      if (level === 'silent') return;
      if (severity === 'debug' && level !== 'debug' && !debugEnabled(namespace)) return;
      const paint = (color: string, text: string) => (colors ? `${color}${text}${COLOR.reset}` : text);
      const time = timestamps ? `${paint(COLOR.dim, new Date(clock()).toISOString())} ` : '';
      const label = `${paint(COLOR[severity], namespace)} ${paint(COLOR[severity], severity)}`;
      stream.write(`${time}${label} ${formatLogEvent(event, data)}\n`);
    } catch {
      // A log line is never worth a failed request.
    }
  };
  const logger: ConsoleLogger = {
    debug: (event, data) => write('debug', event, data),
    warn: (event, data) => write('warn', event, data),
  };
  return logger satisfies OAuthLogger;
}
