/**
 * Runs the MCP conformance suite's client scenarios against `src/client.ts`, one suite process per
 * scenario, a few at a time, and prints one line per scenario and a final `N passed, M failed`.
 *
 *   tsx src/run.ts [--scenario <name>]... [--concurrency <n>] [--timeout <ms>] [--verbose]
 *
 * - The suite (0.1.16) needs Node 22 (`fs.globSync`): it runs under the `node` package's binary.
 * - Its mock servers are held to 127.0.0.1 by the `bind-loopback.mjs` preload.
 * - A scenario passes only when the suite's own verdict does: no FAILURE and no WARNING check,
 *   no client timeout, and no client error unless the scenario expects one (exit code 0).
 * - Every suite process runs in its own process group, which is killed when the scenario ends or
 *   overruns, so no client or server outlives its scenario.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const APP_DIRECTORY = fileURLToPath(new URL('..', import.meta.url));
const NODE_22 = join(APP_DIRECTORY, 'node_modules/node/bin/node');
const SUITE_CLI = join(APP_DIRECTORY, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');
const PRELOAD = join(APP_DIRECTORY, 'src/bind-loopback.mjs');
/**
 * The client, run by Node 22's built-in TypeScript type stripping (no loader to start). Relative
 * to the app directory, where the suite runs it: the suite splits the command on spaces.
 */
const CLIENT_COMMAND = `${relative(APP_DIRECTORY, NODE_22)} src/client.ts`;
/** Scenarios that measure the client's timing: run alone, after the others, so load cannot skew them. */
const TIMING_SENSITIVE = new Set(['sse-retry']);
/** How long past the client timeout a whole scenario (servers, checks, cleanup) may take. */
const SCENARIO_GRACE_MS = 15_000;

interface Options {
  readonly scenarios: readonly string[];
  readonly concurrency: number;
  readonly clientTimeoutMs: number;
  readonly verbose: boolean;
}

interface Check {
  readonly id: string;
  readonly status: string;
  readonly description: string;
  readonly errorMessage?: string;
}

interface Outcome {
  readonly scenario: string;
  readonly passed: boolean;
  readonly reason: string;
  readonly output: string;
}

function parseArguments(argv: readonly string[]): Options {
  const scenarios: string[] = [];
  let concurrency = Math.max(2, Math.min(4, availableParallelism()));
  let clientTimeoutMs = 25_000;
  let verbose = false;
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index];
    const value = () => {
      const next = argv[++index];
      if (next === undefined) throw new Error(`${argument} needs a value`);
      return next;
    };
    if (argument === '--') continue; // forwarded by `pnpm conformance -- …`
    if (argument === '--scenario') scenarios.push(value());
    else if (argument === '--concurrency') concurrency = Math.max(1, Number.parseInt(value(), 10) || 1);
    else if (argument === '--timeout') clientTimeoutMs = Math.max(1000, Number.parseInt(value(), 10) || 0);
    else if (argument === '--verbose') verbose = true;
    else throw new Error(`unknown argument ${argument}`);
  }
  return { scenarios, concurrency, clientTimeoutMs, verbose };
}

/** Process groups of the suite processes still running, killed if the runner is interrupted. */
const running = new Set<number>();

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // the group is already gone
  }
}

/** Runs a process in its own group; resolves when it exits, or kills the group after `timeoutMs`. */
function runGroup(
  args: readonly string[],
  timeoutMs: number,
): Promise<{ code: number | null; output: string; timedOut: boolean }> {
  return new Promise((resolve) => {
    const child: ChildProcess = spawn(NODE_22, args, {
      cwd: APP_DIRECTORY,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let timedOut = false;
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const pid = child.pid;
    if (pid !== undefined) running.add(pid);
    const timer = setTimeout(() => {
      timedOut = true;
      if (pid !== undefined) killGroup(pid);
    }, timeoutMs);
    const finish = (code: number | null) => {
      clearTimeout(timer);
      if (pid !== undefined) {
        killGroup(pid); // a client the suite gave up on must not linger
        running.delete(pid);
      }
      resolve({ code, output, timedOut });
    };
    child.on('error', (error) => {
      output += `\n${error.message}`;
      finish(null);
    });
    child.on('close', finish);
  });
}

async function listClientScenarios(): Promise<string[]> {
  const { code, output } = await runGroup([SUITE_CLI, 'list'], 30_000);
  if (code !== 0) throw new Error(`conformance list failed:\n${output}`);
  const section = output.split(/^Client scenarios.*$/m)[1] ?? '';
  return [...section.matchAll(/^\s+-\s+(\S+)/gm)].map((match) => match[1]!);
}

function findChecks(directory: string): Check[] | undefined {
  const file = readdirSync(directory, { recursive: true, encoding: 'utf8' }).find(
    (name) => name === 'checks.json' || name.endsWith('/checks.json'),
  );
  if (file === undefined) return undefined;
  return JSON.parse(readFileSync(join(directory, file), 'utf8')) as Check[];
}

/** Why the client did not finish cleanly, from the suite's report of the client process. */
function clientProblem(output: string): string | undefined {
  if (/Client timed out after/.test(output)) return 'the client timed out';
  if (!/Client exited with code/.test(output)) return undefined;
  // The suite prints the client's stderr after "Stderr:"; the client's own last words come first.
  const stderr = output.split(/^Stderr:$/m)[1]?.split(/^(?:Checks:|Results saved)/m)[0] ?? '';
  const lines = stderr.split('\n').map((line) => line.trim());
  const line =
    lines.find((text) => /^(?:failed|gave up)\b/.test(text)) ??
    lines.find((text) => /^\w*Error\b/.test(text)) ??
    lines.find((text) => text !== '');
  return `the client exited with an error${line === undefined ? '' : ` (${line.slice(0, 300)})`}`;
}

/** The suite's verdict in one line: its failing or warning checks, and what happened to the client. */
function explain(
  checks: readonly Check[] | undefined,
  code: number | null,
  output: string,
  timedOut: boolean,
) {
  if (timedOut) return 'the scenario did not finish in time';
  if (checks === undefined) return `the suite produced no checks (exit code ${code})`;
  const reasons = checks
    .filter((check) => check.status === 'FAILURE' || check.status === 'WARNING')
    .map((check) => {
      const detail = check.errorMessage === undefined ? '' : ` (${check.errorMessage})`;
      return `${check.status} ${check.id}: ${check.description}${detail}`;
    });
  const client = clientProblem(output);
  if (client !== undefined) reasons.push(client);
  return reasons.length > 0 ? reasons.join('; ') : `the suite failed the scenario (exit code ${code})`;
}

async function runScenario(scenario: string, options: Options): Promise<Outcome> {
  const outputDirectory = mkdtempSync(join(tmpdir(), 'mcp-conformance-'));
  try {
    const { code, output, timedOut } = await runGroup(
      [
        '--import',
        PRELOAD,
        SUITE_CLI,
        'client',
        '--command',
        CLIENT_COMMAND,
        '--scenario',
        scenario,
        '--timeout',
        String(options.clientTimeoutMs),
        '--output-dir',
        outputDirectory,
      ],
      options.clientTimeoutMs + SCENARIO_GRACE_MS,
    );
    const checks = existsSync(outputDirectory) ? findChecks(outputDirectory) : undefined;
    const clean =
      checks !== undefined &&
      !checks.some((check) => check.status === 'FAILURE' || check.status === 'WARNING');
    const passed = code === 0 && !timedOut && clean;
    return { scenario, passed, reason: passed ? '' : explain(checks, code, output, timedOut), output };
  } finally {
    rmSync(outputDirectory, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  const options = parseArguments(process.argv.slice(2));
  for (const path of [NODE_22, SUITE_CLI]) {
    if (!existsSync(path)) throw new Error(`missing ${path}: run pnpm install`);
  }
  for (const name of ['core', 'fetch']) {
    if (!existsSync(join(APP_DIRECTORY, `node_modules/@mcp-oauth/${name}/dist/index.js`))) {
      throw new Error(`@mcp-oauth/${name} is not built: run pnpm conformance from the repository root`);
    }
  }
  if (/\s/.test(APP_DIRECTORY))
    throw new Error('the suite splits the client command on spaces: move the checkout');
  const started = performance.now();
  const scenarios = options.scenarios.length > 0 ? options.scenarios : await listClientScenarios();
  const outcomes: Outcome[] = [];
  const runAll = async (batch: readonly string[], concurrency: number) => {
    const queue = [...batch];
    const worker = async () => {
      for (let scenario = queue.shift(); scenario !== undefined; scenario = queue.shift()) {
        const outcome = await runScenario(scenario, options);
        outcomes.push(outcome);
        console.log(outcome.passed ? `PASS ${scenario}` : `FAIL ${scenario}: ${outcome.reason}`);
        if (options.verbose && !outcome.passed) console.log(outcome.output.replace(/^/gm, '    '));
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, batch.length) }, worker));
  };
  await runAll(
    scenarios.filter((scenario) => !TIMING_SENSITIVE.has(scenario)),
    options.concurrency,
  );
  await runAll(
    scenarios.filter((scenario) => TIMING_SENSITIVE.has(scenario)),
    1,
  );
  const passed = outcomes.filter((outcome) => outcome.passed).length;
  const failed = outcomes.length - passed;
  console.log(`(${outcomes.length} scenarios in ${((performance.now() - started) / 1000).toFixed(1)} s)`);
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 && outcomes.length > 0 ? 0 : 1;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    for (const pid of running) killGroup(pid);
    process.exit(130);
  });
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);
