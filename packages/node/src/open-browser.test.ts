import { EventEmitter } from 'node:events';
import { isOAuthClientError } from '@mcp-oauth/core';
import { describe, expect, it } from 'vitest';
import {
  type BrowserProcess,
  type OpenBrowserOptions,
  openBrowser,
  type SpawnBrowser,
} from './open-browser.js';

const URL_WITH_METACHARACTERS = 'https://as.example/authorize?a=1&b=2|3^4;x=$(touch /tmp/pwned)&c="q"';

type Outcome = 'spawn' | { error: string } | { exit: number };

/** A spawn that records its call and plays the given events, as a real child process would, later. */
function fakeSpawn(...outcomes: Outcome[]) {
  const calls: Array<{ command: string; args: readonly string[]; options: object }> = [];
  let unrefs = 0;
  const spawn: SpawnBrowser = (command, args, options) => {
    calls.push({ command, args, options });
    const child = Object.assign(new EventEmitter(), { unref: () => void unrefs++ });
    setImmediate(() => {
      for (const outcome of outcomes) {
        if (outcome === 'spawn') child.emit('spawn');
        else if ('error' in outcome)
          child.emit('error', Object.assign(new Error('spawn failed'), { code: outcome.error }));
        else child.emit('exit', outcome.exit);
      }
    });
    return child as BrowserProcess;
  };
  return { spawn, calls, unrefs: () => unrefs };
}

function run(
  spawn: SpawnBrowser,
  options: Omit<OpenBrowserOptions, 'spawn' | 'print'>,
  url = URL_WITH_METACHARACTERS,
) {
  const printed: string[] = [];
  const result = openBrowser(url, { spawn, print: (message) => printed.push(message), ...options });
  return { result, printed };
}

describe('openBrowser', () => {
  it.each([
    ['darwin', {}, 'open', []],
    ['linux', { DISPLAY: ':0' }, 'xdg-open', []],
    ['linux', { WAYLAND_DISPLAY: 'wayland-0' }, 'xdg-open', []],
    ['freebsd', { DISPLAY: ':1' }, 'xdg-open', []],
    ['win32', {}, 'rundll32.exe', ['url.dll,FileProtocolHandler']],
  ] as const)(
    'on %s %j runs %s with the URL as one argument, detached, no shell',
    async (platform, env, command, before) => {
      const fake = fakeSpawn('spawn');
      const { result, printed } = run(fake.spawn, { platform, env });

      expect(await result).toBe('opened');
      expect(printed).toEqual([]);
      expect(fake.calls).toHaveLength(1);
      const call = fake.calls[0]!;
      expect(call.command).toBe(command);
      expect(call.args).toEqual([...before, new URL(URL_WITH_METACHARACTERS).href]);
      expect(call.options).toEqual({ detached: true, stdio: 'ignore', windowsHide: true });
      expect(call.options).not.toHaveProperty('shell');
      expect(fake.unrefs()).toBe(1);
    },
  );

  it('passes a URL that contains no space or quote on Windows (nothing for a command line to split)', async () => {
    const fake = fakeSpawn('spawn');
    await run(fake.spawn, { platform: 'win32', env: {} }, 'https://as.example/a b?x="y z"&w=1').result;
    expect(fake.calls[0]!.args[1]).toBe('https://as.example/a%20b?x=%22y%20z%22&w=1');
  });

  it.each([
    ['linux without a display', 'linux', {}],
    ['linux with an empty DISPLAY', 'linux', { DISPLAY: '' }],
    ['CI on macOS', 'darwin', { CI: 'true' }],
    ['CI=1 on Linux with a display', 'linux', { CI: '1', DISPLAY: ':0' }],
  ] as const)('prints the URL and spawns nothing: %s', async (_name, platform, env) => {
    const fake = fakeSpawn('spawn');
    const { result, printed } = run(fake.spawn, { platform, env });

    expect(await result).toBe('printed');
    expect(fake.calls).toEqual([]);
    expect(printed).toEqual([
      `Open this URL in your browser to authorize:\n  ${new URL(URL_WITH_METACHARACTERS).href}`,
    ]);
  });

  it('treats CI=false as no CI', async () => {
    const fake = fakeSpawn('spawn');
    expect(await run(fake.spawn, { platform: 'darwin', env: { CI: 'false' } }).result).toBe('opened');
  });

  it('prints the URL when the opener is missing (ENOENT)', async () => {
    const fake = fakeSpawn({ error: 'ENOENT' });
    const { result, printed } = run(fake.spawn, { platform: 'linux', env: { DISPLAY: ':0' } });
    expect(await result).toBe('printed');
    expect(printed).toHaveLength(1);
  });

  it('prints the URL when spawn throws', async () => {
    const spawn: SpawnBrowser = () => {
      throw new Error('EAGAIN');
    };
    const { result, printed } = run(spawn, { platform: 'darwin', env: {} });
    expect(await result).toBe('printed');
    expect(printed).toHaveLength(1);
  });

  it('prints the URL when the opener exits with an error after starting', async () => {
    const fake = fakeSpawn('spawn', { exit: 3 });
    const { result, printed } = run(fake.spawn, { platform: 'linux', env: { DISPLAY: ':0' } });
    expect(await result).toBe('opened');
    await new Promise((resolve) => setImmediate(resolve));
    expect(printed).toHaveLength(1);
  });

  it('does not print when the opener exits cleanly', async () => {
    const fake = fakeSpawn('spawn', { exit: 0 });
    const { result, printed } = run(fake.spawn, { platform: 'darwin', env: {} });
    expect(await result).toBe('opened');
    await new Promise((resolve) => setImmediate(resolve));
    expect(printed).toEqual([]);
  });

  it.each(['file:///etc/passwd', 'javascript:alert(1)', '-a Calculator', 'ms-settings:', 'not a url'])(
    'refuses %s with unsafe_url, spawning nothing',
    async (url) => {
      const fake = fakeSpawn('spawn');
      const error = await run(fake.spawn, { platform: 'darwin', env: {} }, url).result.catch(
        (caught: unknown) => caught,
      );
      expect(isOAuthClientError(error, 'unsafe_url')).toBe(true);
      expect(fake.calls).toEqual([]);
    },
  );
});
