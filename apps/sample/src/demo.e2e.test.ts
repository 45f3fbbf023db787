/**
 * `pnpm demo`, exactly as the README says, as a child process from the repository root: it builds
 * what it needs, runs every adapter against the embedded demo server, prints the table and exits 0.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { ADAPTER_NAMES } from './adapters/index.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runPnpmDemo(): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('pnpm', ['demo'], {
      cwd: ROOT,
      env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', FORCE_COLOR: '0', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The table row of an adapter: its cells, split at the column separators and spaces. */
function row(stdout: string, adapter: string) {
  const line = stdout.split('\n').find((text) => text.startsWith(`${adapter} `) && text.includes('│'));
  expect(line, `a table row for ${adapter}`).toBeDefined();
  const [name, steps, counts, scopes] = (line ?? '').split('│').map((cell) => cell.trim());
  const [prm, as, register, authorize, token, revoke, mcp] = (counts ?? '').split(/\s+/).map(Number);
  return {
    name,
    steps: (steps ?? '').split(/\s+/),
    counts: { prm, as, register, authorize, token, revoke, mcp },
    scopes,
  };
}

let run: Run;

beforeAll(async () => {
  run = await runPnpmDemo();
}, 240_000);

describe('pnpm demo', () => {
  it('exits 0 and says every step passed', () => {
    expect(run.stderr).not.toMatch(/could not run/);
    expect(run.code, run.stdout.slice(-3000)).toBe(0);
    expect(run.stdout).toContain('Every step passed.');
  });

  it('prints a table row per adapter with every step ✓', () => {
    for (const adapter of ADAPTER_NAMES) {
      expect(row(run.stdout, adapter).steps).toEqual(Array(9).fill('✓'));
    }
  });

  it('counts the round trips each adapter cost, endpoint by endpoint', () => {
    for (const adapter of ADAPTER_NAMES) {
      const { counts, scopes } = row(run.stdout, adapter);
      expect(counts, adapter).toEqual({
        prm: 1, // discovery once: the session keeps what it found
        as: 1,
        register: 1,
        authorize: 2, // the first authorization and the step-up
        token: 3, // two code exchanges and one refresh
        revoke: 3, // the refresh token the step-up replaced, then both tokens at sign-out
        // initialize (401, then its retry), notifications/initialized, tools/list, echo,
        // admin_stats (403, then its retry), echo after expiry; the MCP SDK also opens its SSE
        // stream with a GET after initialization.
        mcp: adapter === 'fetch' ? 9 : 8,
      });
      expect(scopes).toBe('mcp:tools mcp:admin');
    }
  });

  it('never prints a token, code, verifier or state', () => {
    const output = `${run.stdout}\n${run.stderr}`;
    // Access tokens are JWTs; refresh tokens, codes, verifiers and states are long base64url runs.
    expect(output).not.toMatch(/eyJ[\w-]+/);
    expect(output).not.toMatch(/[\w-]{32,}/);
    expect(output).not.toMatch(/[?&](code|state|code_verifier)=/);
  });
});
