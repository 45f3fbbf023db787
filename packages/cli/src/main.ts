/**
 * `mcp-oauth <command> …`: parses the command line, runs the command, and turns what went wrong
 * into a message on stderr and an exit code. Nothing here writes to stdout but `--help` and
 * `--version` (and the commands their results).
 */
import { parseArgs } from 'node:util';
import { type Command, GLOBAL_HELP, GLOBAL_OPTIONS, type ParsedArguments } from './command.js';
import { callCommand } from './commands/call.js';
import { loginCommand } from './commands/login.js';
import { logoutCommand } from './commands/logout.js';
import { proxyCommand } from './commands/proxy.js';
import { statusCommand } from './commands/status.js';
import { tokenCommand } from './commands/token.js';
import { toolsCommand } from './commands/tools.js';
import { describeError, EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_USAGE, UsageError } from './errors.js';
import { createDebugLog } from './log.js';
import { type CliContext, VERSION } from './session.js';

export const COMMANDS: readonly Command[] = [
  loginCommand,
  statusCommand,
  logoutCommand,
  tokenCommand,
  toolsCommand,
  callCommand,
  proxyCommand,
];

export const USAGE = `mcp-oauth ${VERSION}: OAuth for remote MCP servers, from the command line

Usage: mcp-oauth <command> [options]

Commands:
${COMMANDS.map((command) => `  ${command.name.padEnd(8)} ${command.summary}`).join('\n')}

Run mcp-oauth <command> --help for the options of a command.

${GLOBAL_HELP}
  --version            print the version`;

export interface MainIo {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** Aborts the running command (Ctrl-C). */
  readonly signal: AbortSignal;
}

function parse(command: Command, args: readonly string[]): ParsedArguments {
  try {
    const { values, positionals } = parseArgs({
      args: [...args],
      options: { ...GLOBAL_OPTIONS, ...command.options },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as ParsedArguments['values'], positionals };
  } catch (error) {
    // parseArgs names the option in its message (e.g. "Unknown option '--x'").
    throw new UsageError(error instanceof Error ? error.message.split('. ')[0]! : 'invalid options');
  }
}

function helpFor(command: Command): string {
  return `${command.help}\n\n${GLOBAL_HELP}\n`;
}

/** Runs one command line; resolves with the exit code. */
export async function main(io: MainIo): Promise<number> {
  const [name, ...rest] = io.argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? COMMANDS.find((command) => command.name === rest[0]) : undefined;
    io.stdout.write(topic === undefined ? `${USAGE}\n` : helpFor(topic));
    return name === undefined ? EXIT_USAGE : 0;
  }
  if (name === '--version' || name === '-v') {
    io.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (command === undefined) {
    io.stderr.write(`mcp-oauth: unknown command "${name}"\n\n${USAGE}\n`);
    return EXIT_USAGE;
  }
  let parsed: ParsedArguments;
  try {
    parsed = parse(command, rest);
  } catch (error) {
    io.stderr.write(`${describeError(error).join('\n')}\n\n${helpFor(command)}`);
    return EXIT_USAGE;
  }
  if (parsed.values.help === true) {
    io.stdout.write(helpFor(command));
    return 0;
  }
  const logFile = typeof parsed.values['log-file'] === 'string' ? parsed.values['log-file'] : undefined;
  const configFlag = parsed.values['config-dir'];
  const configDirectory =
    typeof configFlag === 'string' && configFlag !== ''
      ? configFlag
      : io.env.MCP_OAUTH_CONFIG_DIR || undefined;
  const context: CliContext = {
    env: io.env,
    stdin: io.stdin,
    stdout: io.stdout,
    stderr: io.stderr,
    log: createDebugLog({
      enabled: parsed.values.debug === true || logFile !== undefined,
      file: logFile,
      stderr: io.stderr,
    }),
    configDirectory,
    signal: io.signal,
  };
  context.log.write('debug', 'cli.command', { command: command.name, version: VERSION });
  try {
    return await command.run(context, parsed);
  } catch (error) {
    if (io.signal.aborted) {
      io.stderr.write('mcp-oauth: interrupted\n');
      return EXIT_INTERRUPTED;
    }
    const url = parsed.positionals[0];
    io.stderr.write(`${describeError(error, url).join('\n')}\n`);
    if (error instanceof UsageError) {
      io.stderr.write(`\n${helpFor(command)}`);
      return EXIT_USAGE;
    }
    return EXIT_FAILURE;
  }
}
