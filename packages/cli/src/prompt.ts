/**
 * How the CLI brings the user in: the browser (the system opener, or `$BROWSER`), or a device
 * code printed on stderr. stdout is never used, so `token` and `proxy` output stay clean.
 */
import { spawn } from 'node:child_process';
import type { DeviceCodePrompt } from '@mcp-oauth/core/device';
import { openBrowser } from '@mcp-oauth/node';

type Environment = Readonly<Record<string, string | undefined>>;

/**
 * `$BROWSER` as a command and its arguments (split on whitespace, no shell): `%s` is replaced by
 * the URL, else the URL is appended — the convention of Python's `webbrowser`, `gh` and others.
 */
export function browserCommandFromEnvironment(
  value: string | undefined,
  url: string,
): { command: string; args: string[] } | undefined {
  const words = (value ?? '')
    .trim()
    .split(/\s+/)
    .filter((word) => word !== '');
  const [command, ...rest] = words;
  if (command === undefined) return undefined;
  const args = rest.some((word) => word.includes('%s'))
    ? rest.map((word) => word.replaceAll('%s', url))
    : [...rest, url];
  return { command, args };
}

/** Opens a URL for the user: `$BROWSER` when set, else the system opener (which prints the URL without a desktop). */
export function createOpener(
  env: Environment,
  stderr: NodeJS.WritableStream,
): (url: string) => Promise<void> {
  const print = (message: string) => stderr.write(`${message}\n`);
  return async (url) => {
    const configured = browserCommandFromEnvironment(env.BROWSER, url);
    if (configured === undefined) {
      await openBrowser(url, { print });
      return;
    }
    const started = await new Promise<boolean>((resolve) => {
      const child = spawn(configured.command, configured.args, { stdio: 'ignore', detached: true });
      child.once('spawn', () => {
        child.unref();
        resolve(true);
      });
      child.once('error', () => resolve(false));
    });
    if (!started) print(`Could not start $BROWSER. Open this URL in your browser to authorize:\n  ${url}`);
  };
}

function minutesUntil(time: number, now: number): string {
  const minutes = Math.max(0, Math.round((time - now) / 60_000));
  return minutes <= 1 ? 'about a minute' : `${minutes} minutes`;
}

/** The device flow's instructions, on stderr. */
export function printDeviceCode(
  stderr: NodeJS.WritableStream,
  prompt: DeviceCodePrompt,
  now: number = Date.now(),
): void {
  const lines = [
    '',
    `To sign in, open ${prompt.verificationUri}`,
    `and enter the code ${prompt.userCode}`,
    ...(prompt.verificationUriComplete === undefined
      ? []
      : [`(or open ${prompt.verificationUriComplete}, which has the code filled in)`]),
    `on any device. Check that the page shows the same code. It expires in ${minutesUntil(prompt.expiresAt, now)}.`,
    'Waiting for you to confirm…',
    '',
  ];
  stderr.write(`${lines.join('\n')}\n`);
}
