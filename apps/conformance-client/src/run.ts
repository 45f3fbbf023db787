/**
 * Runs the MCP conformance suite's client scenarios against `src/client.ts`, in three runs:
 *
 * - `stable`: the suite's stable release at its default wire (the `initialize` handshake);
 * - `next`: the newest pre-release at its default wire (each scenario at the revision it was
 *   written for: the handshake, or the 2026-07-28 stateless wire for the scenarios new in it);
 * - `next-2026`: the pre-release with `--spec-version 2026-07-28`: every scenario that applies to
 *   that revision at its stateless wire, and the extension scenarios (DPoP, workload identity,
 *   enterprise-managed authorization, client credentials, skills), which apply to every revision,
 *   forced to it. Scenarios that 2026-07-28 removed are listed as not applicable.
 *
 *   tsx src/run.ts [--run stable|next|next-2026]... [--scenario <name>]... [--concurrency <n>]
 *                  [--timeout <ms>] [--verbose]
 *
 * One suite process per scenario, a few at a time; a line per scenario as it ends, then a table per
 * run and a final `N passed, M failed`. The exit code is non-zero on any failure.
 *
 * - The suites need Node 22 (`fs.globSync`): they run under the `node` package's binary.
 * - Their mock servers are held to 127.0.0.1 by the `bind-loopback.mjs` preload.
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
const STATELESS_REVISION = '2026-07-28';

interface Suite {
  readonly id: 'stable' | 'next' | 'next-2026';
  /** The package directory under node_modules (the pre-release is installed under an alias). */
  readonly packageName: string;
  /** `--spec-version` for every scenario of the run. */
  readonly specVersion?: string;
}

const SUITES: readonly Suite[] = [
  { id: 'stable', packageName: '@modelcontextprotocol/conformance' },
  { id: 'next', packageName: '@modelcontextprotocol/conformance-next' },
  { id: 'next-2026', packageName: '@modelcontextprotocol/conformance-next', specVersion: STATELESS_REVISION },
];

interface Options {
  readonly runs: ReadonlySet<Suite['id']>;
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

/** A client scenario as `conformance list` shows it: its name and the revisions it applies to. */
interface ListedScenario {
  readonly name: string;
  /** Revisions (`2025-11-25`, `2026-07-28`, `draft`) or `extension`. */
  readonly tags: readonly string[];
}

/** One scenario of one run, with the suite arguments that select its wire. */
interface Job {
  readonly suite: Suite;
  readonly scenario: string;
  readonly extraArguments: readonly string[];
}

interface Outcome {
  readonly suite: Suite;
  readonly scenario: string;
  readonly result: 'pass' | 'fail' | 'not applicable';
  readonly reason: string;
  readonly output: string;
}

function parseArguments(argv: readonly string[]): Options {
  const runs = new Set<Suite['id']>();
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
    if (argument === '--run') {
      const id = value();
      const suite = SUITES.find((candidate) => candidate.id === id);
      if (suite === undefined) throw new Error(`--run is one of ${SUITES.map((s) => s.id).join(', ')}`);
      runs.add(suite.id);
    } else if (argument === '--scenario') scenarios.push(value());
    else if (argument === '--concurrency') concurrency = Math.max(1, Number.parseInt(value(), 10) || 1);
    else if (argument === '--timeout') clientTimeoutMs = Math.max(1000, Number.parseInt(value(), 10) || 0);
    else if (argument === '--verbose') verbose = true;
    else throw new Error(`unknown argument ${argument}`);
  }
  if (runs.size === 0) for (const suite of SUITES) runs.add(suite.id);
  return { runs, scenarios, concurrency, clientTimeoutMs, verbose };
}

function suiteDirectory(suite: Suite): string {
  return join(APP_DIRECTORY, 'node_modules', suite.packageName);
}

function suiteCli(suite: Suite): string {
  return join(suiteDirectory(suite), 'dist/index.js');
}

function suiteVersion(suite: Suite): string {
  const manifest = JSON.parse(readFileSync(join(suiteDirectory(suite), 'package.json'), 'utf8')) as {
    version?: string;
  };
  return manifest.version ?? 'unknown';
}

function describeSuite(suite: Suite): string {
  const wire =
    suite.specVersion === undefined
      ? 'its default wire'
      : `--spec-version ${suite.specVersion} (the stateless wire)`;
  return `@modelcontextprotocol/conformance ${suiteVersion(suite)}, ${wire}`;
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

/** The "Client scenarios" section of `conformance list`: one `  - name [tags]` line each. */
function parseClientScenarios(listing: string): ListedScenario[] {
  const section = listing.split(/^Client scenarios.*$/m)[1] ?? '';
  const scenarios: ListedScenario[] = [];
  for (const line of section.split('\n')) {
    if (/^\S/.test(line)) break; // the next section's heading
    const match = /^\s+-\s+(\S+)(?:\s+\[([^\]]*)\])?/.exec(line);
    if (match === null) continue;
    scenarios.push({ name: match[1]!, tags: (match[2] ?? '').split(',').filter((tag) => tag !== '') });
  }
  return scenarios;
}

async function listClientScenarios(suite: Suite): Promise<ListedScenario[]> {
  const { code, output } = await runGroup([suiteCli(suite), 'list'], 30_000);
  if (code !== 0) throw new Error(`conformance list (${suite.id}) failed:\n${output}`);
  const scenarios = parseClientScenarios(output);
  if (scenarios.length === 0) throw new Error(`conformance list (${suite.id}) named no client scenario`);
  return scenarios;
}

/**
 * Where a scenario runs in a suite: as is, or at the suite's `--spec-version`. There, extension
 * scenarios (on no revision's timeline, applicable to all) are forced to the revision, and
 * scenarios the revision does not have are not applicable.
 */
function planScenario(suite: Suite, scenario: ListedScenario): Job | 'not applicable' {
  if (suite.specVersion === undefined) return { suite, scenario: scenario.name, extraArguments: [] };
  const specVersion = ['--spec-version', suite.specVersion];
  if (scenario.tags.includes(suite.specVersion)) {
    return { suite, scenario: scenario.name, extraArguments: specVersion };
  }
  if (scenario.tags.includes('extension')) {
    return { suite, scenario: scenario.name, extraArguments: [...specVersion, '--force'] };
  }
  return 'not applicable';
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

async function runScenario(job: Job, options: Options): Promise<Outcome> {
  const outputDirectory = mkdtempSync(join(tmpdir(), 'mcp-conformance-'));
  try {
    const { code, output, timedOut } = await runGroup(
      [
        '--import',
        PRELOAD,
        suiteCli(job.suite),
        'client',
        '--command',
        CLIENT_COMMAND,
        '--scenario',
        job.scenario,
        ...job.extraArguments,
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
    return {
      suite: job.suite,
      scenario: job.scenario,
      result: passed ? 'pass' : 'fail',
      reason: passed ? '' : explain(checks, code, output, timedOut),
      output,
    };
  } finally {
    rmSync(outputDirectory, { recursive: true, force: true });
  }
}

/** A run's results as a Markdown table, in the order the suite lists its scenarios. */
function formatTable(suite: Suite, outcomes: readonly Outcome[], order: readonly string[]): string {
  const rows = [...outcomes].sort((a, b) => order.indexOf(a.scenario) - order.indexOf(b.scenario));
  const count = (result: Outcome['result']) => rows.filter((outcome) => outcome.result === result).length;
  const lines = [`${suite.id}: ${describeSuite(suite)}`, '', '| scenario | result |', '| --- | --- |'];
  for (const outcome of rows) {
    const result =
      outcome.result === 'fail'
        ? `FAIL: ${outcome.reason.replaceAll('|', '\\|')}`
        : outcome.result === 'not applicable'
          ? `not applicable (not in ${suite.specVersion})`
          : 'pass';
    lines.push(`| ${outcome.scenario} | ${result} |`);
  }
  const notApplicable = count('not applicable');
  lines.push(
    '',
    `${suite.id}: ${count('pass')} of ${count('pass') + count('fail')} passed` +
      (notApplicable > 0 ? ` (${notApplicable} not applicable)` : ''),
  );
  return lines.join('\n');
}

async function main(): Promise<number> {
  const options = parseArguments(process.argv.slice(2));
  const suites = SUITES.filter((suite) => options.runs.has(suite.id));
  for (const path of [NODE_22, ...suites.map(suiteCli)]) {
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

  const listings = new Map<string, ListedScenario[]>();
  const jobs: Job[] = [];
  const outcomes: Outcome[] = [];
  for (const suite of suites) {
    let listing = listings.get(suite.packageName);
    if (listing === undefined) {
      listing = await listClientScenarios(suite);
      listings.set(suite.packageName, listing);
    }
    const wanted = options.scenarios.length === 0 ? undefined : new Set(options.scenarios);
    for (const scenario of listing) {
      if (wanted !== undefined && !wanted.has(scenario.name)) continue;
      const plan = planScenario(suite, scenario);
      if (plan === 'not applicable') {
        outcomes.push({ suite, scenario: scenario.name, result: 'not applicable', reason: '', output: '' });
      } else jobs.push(plan);
    }
  }

  const runAll = async (batch: readonly Job[], concurrency: number) => {
    const queue = [...batch];
    const worker = async () => {
      for (let job = queue.shift(); job !== undefined; job = queue.shift()) {
        const outcome = await runScenario(job, options);
        outcomes.push(outcome);
        const label = `${job.suite.id} ${job.scenario}`;
        console.log(outcome.result === 'pass' ? `PASS ${label}` : `FAIL ${label}: ${outcome.reason}`);
        if (options.verbose && outcome.result === 'fail') console.log(outcome.output.replace(/^/gm, '    '));
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, batch.length) }, worker));
  };
  await runAll(
    jobs.filter((job) => !TIMING_SENSITIVE.has(job.scenario)),
    options.concurrency,
  );
  await runAll(
    jobs.filter((job) => TIMING_SENSITIVE.has(job.scenario)),
    1,
  );

  for (const suite of suites) {
    const order = (listings.get(suite.packageName) ?? []).map((scenario) => scenario.name);
    const ofSuite = outcomes.filter((outcome) => outcome.suite === suite);
    console.log(`\n${formatTable(suite, ofSuite, order)}`);
  }
  const passed = outcomes.filter((outcome) => outcome.result === 'pass').length;
  const failed = outcomes.filter((outcome) => outcome.result === 'fail').length;
  console.log(`\n(${jobs.length} scenario runs in ${((performance.now() - started) / 1000).toFixed(1)} s)`);
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 && passed > 0 ? 0 : 1;
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
