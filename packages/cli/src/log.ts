/**
 * The `--debug` log: one line per step, to stderr or (with `--log-file`) appended to a file that
 * only the user can read. Lines carry event names and the non-secret facts core puts in its log
 * data (URLs without query, issuers, scopes, statuses, error codes) — never a token, a code, a
 * device code or a message body.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { OAuthLogger } from '@mcp-oauth/core';

export interface DebugLog {
  readonly enabled: boolean;
  write(level: 'debug' | 'warn' | 'error', event: string, data?: Readonly<Record<string, unknown>>): void;
}

export interface DebugLogOptions {
  readonly enabled: boolean;
  /** Append here instead of writing to `stderr`. */
  readonly file?: string | undefined;
  readonly stderr: NodeJS.WritableStream;
  readonly clock?: () => Date;
}

function formatValue(value: unknown): string {
  if (typeof value === 'string')
    return /^[\w.:/@+-]*$/.test(value) && value !== '' ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}

export function formatLine(
  time: Date,
  level: string,
  event: string,
  data: Readonly<Record<string, unknown>> | undefined,
): string {
  const fields = Object.entries(data ?? {})
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => `${name}=${formatValue(value)}`);
  return [time.toISOString(), level, event, ...fields].join(' ');
}

export function createDebugLog(options: DebugLogOptions): DebugLog {
  const clock = options.clock ?? (() => new Date());
  if (!options.enabled) return { enabled: false, write() {} };
  let directoryReady = false;
  return {
    enabled: true,
    write(level, event, data) {
      const line = `${formatLine(clock(), level, event, data)}\n`;
      try {
        if (options.file === undefined) options.stderr.write(`mcp-oauth ${line}`);
        else {
          if (!directoryReady) {
            mkdirSync(dirname(options.file), { recursive: true, mode: 0o700 });
            directoryReady = true;
          }
          appendFileSync(options.file, line, { mode: 0o600 });
        }
      } catch {
        // A log that cannot be written loses the line, never the command.
      }
    },
  };
}

/** Core's logger interface over the debug log. */
export function oauthLogger(log: DebugLog): OAuthLogger {
  return {
    debug: (event, data) => log.write('debug', event, data as Readonly<Record<string, unknown>>),
    warn: (event, data) => log.write('warn', event, data as Readonly<Record<string, unknown>>),
  };
}
