import { describe, expect, it } from 'vitest';
import { defaultStoreDirectory } from './store-directory.js';

describe('defaultStoreDirectory', () => {
  it.each([
    ['linux', {}, '/home/ada/.config/mcp-oauth'],
    ['linux', { XDG_CONFIG_HOME: '/xdg' }, '/xdg/mcp-oauth'],
    ['linux', { XDG_CONFIG_HOME: 'relative/xdg' }, '/home/ada/.config/mcp-oauth'],
    ['freebsd', {}, '/home/ada/.config/mcp-oauth'],
    ['darwin', { XDG_CONFIG_HOME: '/xdg' }, '/home/ada/Library/Application Support/mcp-oauth'],
    ['win32', { APPDATA: 'C:\\Users\\ada\\AppData\\Roaming' }, 'C:\\Users\\ada\\AppData\\Roaming\\mcp-oauth'],
  ] as const)('%s with %j → %s', (platform, env, expected) => {
    expect(defaultStoreDirectory({ platform, env, home: '/home/ada' })).toBe(expected);
  });

  it('falls back to the roaming profile when APPDATA is unset on Windows', () => {
    expect(defaultStoreDirectory({ platform: 'win32', env: {}, home: 'C:\\Users\\ada' })).toBe(
      'C:\\Users\\ada\\AppData\\Roaming\\mcp-oauth',
    );
  });
});
