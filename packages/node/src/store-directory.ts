import { homedir } from 'node:os';
import { posix, win32 } from 'node:path';

export interface StoreDirectoryEnvironment {
  readonly platform?: NodeJS.Platform;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly home?: string;
}

/**
 * Where the file stores live by default: the user's configuration directory.
 * - Linux and other Unix: `$XDG_CONFIG_HOME/mcp-oauth`, else `~/.config/mcp-oauth`;
 * - macOS: `~/Library/Application Support/mcp-oauth`;
 * - Windows: `%APPDATA%\mcp-oauth`.
 */
export function defaultStoreDirectory(environment: StoreDirectoryEnvironment = {}): string {
  const platform = environment.platform ?? process.platform;
  const env = environment.env ?? process.env;
  const home = environment.home ?? homedir();
  if (platform === 'win32') {
    return win32.join(env.APPDATA || win32.join(home, 'AppData', 'Roaming'), 'mcp-oauth');
  }
  if (platform === 'darwin') return posix.join(home, 'Library', 'Application Support', 'mcp-oauth');
  // The XDG specification says to ignore a relative XDG_CONFIG_HOME.
  const xdg = env.XDG_CONFIG_HOME;
  return posix.join(xdg && posix.isAbsolute(xdg) ? xdg : posix.join(home, '.config'), 'mcp-oauth');
}
