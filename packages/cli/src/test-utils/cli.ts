/**
 * Running the built CLI (`dist/cli.js`) as a child process, as a user or an MCP host would, with
 * its own configuration directory; and a scripted browser for the authorization code flow.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { followAuthorization } from '@mcp-oauth/demo-server';

export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const BROWSER_STUB = fileURLToPath(new URL('./browser-stub.mjs', import.meta.url));

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A fresh per-user configuration directory (`$XDG_CONFIG_HOME`) and `$HOME`. */
export async function createHome(): Promise<{
  env: Record<string, string>;
  directory: string;
  remove(): Promise<void>;
}> {
  const home = await mkdtemp(join(tmpdir(), 'mcp-oauth-cli-'));
  const config = join(home, '.config');
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (
      value !== undefined &&
      !['DISPLAY', 'WAYLAND_DISPLAY', 'BROWSER', 'MCP_OAUTH_CONFIG_DIR'].includes(name)
    ) {
      env[name] = value;
    }
  }
  Object.assign(env, { HOME: home, XDG_CONFIG_HOME: config, NO_COLOR: '1' });
  return {
    env,
    directory: join(config, 'mcp-oauth'),
    remove: () => rm(home, { recursive: true, force: true }),
  };
}

/** Starts `mcp-oauth <args>`; `stderr` accumulates as it arrives. */
export function startCli(args: readonly string[], env: Record<string, string>) {
  const child: ChildProcess = spawn(process.execPath, [CLI, ...args], {
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    for (const listener of listeners) listener();
  });
  const exited = new Promise<CliRun>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
  return {
    child,
    exited,
    get stderr() {
      return stderr;
    },
    /** Resolves with the first match of `pattern` in stderr (rejects when the process exits first). */
    waitForStderr(pattern: RegExp): Promise<RegExpExecArray> {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(stderr);
          if (match === null) return;
          listeners.delete(check);
          resolve(match);
        };
        listeners.add(check);
        check();
        exited.then(() => {
          listeners.delete(check);
          reject(new Error(`the CLI exited before printing ${pattern}; stderr:\n${stderr}`));
        }, reject);
      });
    },
  };
}

export async function runCli(
  args: readonly string[],
  env: Record<string, string>,
  input?: string,
): Promise<CliRun> {
  const run = startCli(args, env);
  run.child.stdin!.end(input ?? '');
  return run.exited;
}

/** The device flow's `verification_uri_complete` as the CLI prints it. */
export const DEVICE_PROMPT = /\(or open (\S+), which has the code filled in\)/;

/**
 * A browser for `$BROWSER`: each URL the CLI opens is followed through the demo's auto-approved
 * authorization (cookies and all), and the redirect is delivered to the CLI's callback server.
 */
export async function startTestBrowser(): Promise<{
  env: Record<string, string>;
  opened: string[];
  close(): Promise<void>;
}> {
  const opened: string[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8').on('data', (chunk: string) => {
      body += chunk;
    });
    request.on('end', async () => {
      opened.push(body);
      try {
        const callback = await followAuthorization(body);
        const delivered = await fetch(callback);
        await delivered.body?.cancel();
        response.writeHead(204).end();
      } catch {
        response.writeHead(500).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    env: {
      BROWSER: `${process.execPath} ${BROWSER_STUB}`,
      MCP_OAUTH_TEST_BROWSER: `http://127.0.0.1:${port}/`,
    },
    opened,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
