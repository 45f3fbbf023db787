/**
 * The protected scope: the MCP server URL the application configured and the paths below it,
 * on its origin. Tokens go nowhere else, whatever a server's metadata says its resource is.
 */
import { tryParseUrl } from '../url.js';
import type { SessionState } from './state.js';

export type ScopeCheck =
  | { readonly inside: true }
  | { readonly inside: false; readonly reason: 'origin' | 'path' };

const INSIDE: ScopeCheck = { inside: true };
const OTHER_ORIGIN: ScopeCheck = { inside: false, reason: 'origin' };
const OTHER_PATH: ScopeCheck = { inside: false, reason: 'path' };

export function scopeCheck(state: SessionState, url: string | URL): ScopeCheck {
  const target = typeof url === 'string' ? tryParseUrl(url) : url;
  const server = state.config.serverUrl;
  if (target === undefined || target.origin !== server.origin) return OTHER_ORIGIN;
  const path = server.pathname;
  if (target.pathname === path || path === '/') return INSIDE;
  const base = path.endsWith('/') ? path : `${path}/`;
  return target.pathname.startsWith(base) ? INSIDE : OTHER_PATH;
}
