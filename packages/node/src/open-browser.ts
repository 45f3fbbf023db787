/**
 * Opens a URL in the user's browser with the system opener, or prints it when there is no desktop
 * to open it on (CI, SSH, a container) or the opener fails. Never goes through a shell: the URL is
 * one argument of an argument array.
 */
import { spawn as spawnProcess } from 'node:child_process';
import { OAuthClientError } from '@mcp-oauth/core';

/** `opened`: the system opener started. `printed`: the URL was printed for the user to open. */
export type OpenBrowserResult = 'opened' | 'printed';

/** The part of a `ChildProcess` the opener uses. */
export interface BrowserProcess {
  once(event: 'spawn', listener: () => void): unknown;
  once(event: 'error', listener: (error: Error) => void): unknown;
  once(event: 'exit', listener: (code: number | null) => void): unknown;
  unref(): void;
}

/** `child_process.spawn`'s shape, injectable for tests. */
export type SpawnBrowser = (
  command: string,
  args: readonly string[],
  options: { detached: boolean; stdio: 'ignore'; windowsHide: boolean },
) => BrowserProcess;

export interface OpenBrowserOptions {
  /** Default `child_process.spawn`. */
  readonly spawn?: SpawnBrowser;
  /** Where the URL goes when no browser can be opened. Default: a line on stderr. */
  readonly print?: (message: string) => void;
  /** Default `process.platform`. */
  readonly platform?: NodeJS.Platform;
  /** Default `process.env` (read for `CI`, `DISPLAY` and `WAYLAND_DISPLAY`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** The system opener for a platform, or `undefined` when there is no desktop to open a browser on. */
export function browserCommand(
  url: string,
  platform: NodeJS.Platform,
  env: Readonly<Record<string, string | undefined>>,
): { command: string; args: string[] } | undefined {
  if (isFlagSet(env.CI)) return undefined;
  switch (platform) {
    case 'darwin':
      return { command: 'open', args: [url] };
    case 'win32':
      // No cmd.exe: `start` would re-parse `&` and `^` in the URL. The URL holds no space or quote
      // (it is serialised by URL), so it reaches the protocol handler as one argument.
      return { command: 'rundll32.exe', args: ['url.dll,FileProtocolHandler', url] };
    default:
      return env.DISPLAY || env.WAYLAND_DISPLAY ? { command: 'xdg-open', args: [url] } : undefined;
  }
}

/**
 * Opens `url` (http or https only, else `unsafe_url`). When no browser can be started it prints
 * `Open this URL in your browser to authorize:` and the URL; it prints too if the opener later
 * exits with an error.
 */
export async function openBrowser(
  url: string | URL,
  options: OpenBrowserOptions = {},
): Promise<OpenBrowserResult> {
  const href = httpUrl(url);
  const print = options.print ?? printToStderr;
  const printUrl = () => print(`Open this URL in your browser to authorize:\n  ${href}`);
  const command = browserCommand(href, options.platform ?? process.platform, options.env ?? process.env);
  if (command === undefined || !(await launch(options.spawn ?? spawnProcess, command, printUrl))) {
    printUrl();
    return 'printed';
  }
  return 'opened';
}

/** Starts the opener detached; resolves `false` when it could not start (ENOENT and the like). */
function launch(
  spawn: SpawnBrowser,
  { command, args }: { command: string; args: string[] },
  onFailure: () => void,
): Promise<boolean> {
  let child: BrowserProcess;
  try {
    child = spawn(command, args, { detached: true, stdio: 'ignore', windowsHide: true });
  } catch {
    return Promise.resolve(false);
  }
  return new Promise((resolve) => {
    child.once('error', () => resolve(false));
    child.once('spawn', () => {
      child.once('exit', (code) => {
        if (code !== 0) onFailure();
      });
      child.unref();
      resolve(true);
    });
  });
}

function httpUrl(url: string | URL): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new OAuthClientError('unsafe_url', 'only http and https URLs can be opened in a browser');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new OAuthClientError('unsafe_url', 'only http and https URLs can be opened in a browser');
  }
  return parsed.href;
}

/** `CI=true`, `CI=1`, `CI=yes` count; `CI=`, `CI=0` and `CI=false` do not. */
function isFlagSet(value: string | undefined): boolean {
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}

function printToStderr(message: string): void {
  process.stderr.write(`${message}\n`);
}
