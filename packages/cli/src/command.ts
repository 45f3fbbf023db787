/**
 * A command: its name, its help text, its own options (for `node:util` `parseArgs`) and what it
 * does. The global options (`--config-dir`, `--debug`, `--log-file`, `--help`) are added to each.
 */
import type { ParseArgsConfig } from 'node:util';
import type { CliContext } from './session.js';

export type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

export interface ParsedArguments {
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
}

export interface Command {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** The full `--help` text, without the global options. */
  readonly help: string;
  readonly options: OptionsConfig;
  /** Resolves with the exit code. */
  run(context: CliContext, parsed: ParsedArguments): Promise<number>;
}

export const GLOBAL_OPTIONS = {
  'config-dir': { type: 'string' },
  debug: { type: 'boolean' },
  'log-file': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionsConfig;

export const GLOBAL_HELP = `Global options:
  --config-dir <dir>   where credentials are kept (default: $MCP_OAUTH_CONFIG_DIR, else
                       $XDG_CONFIG_HOME/mcp-oauth or ~/.config/mcp-oauth on Linux,
                       ~/Library/Application Support/mcp-oauth on macOS, %APPDATA%\\mcp-oauth on Windows)
  --debug              log each OAuth step to stderr (never a token)
  --log-file <file>    write that log to <file> instead (implies --debug)
  -h, --help           show help`;

/** The string value of an option, if given. */
export function stringOption(parsed: ParsedArguments, name: string): string | undefined {
  const value = parsed.values[name];
  return typeof value === 'string' ? value : undefined;
}

export function flag(parsed: ParsedArguments, name: string): boolean {
  return parsed.values[name] === true;
}
