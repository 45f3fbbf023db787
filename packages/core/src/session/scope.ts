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

/** The server URL's origin and path, read once per URL (the check runs on every request). */
interface ScopeParts {
  readonly href: string;
  readonly origin: string;
  readonly path: string;
  /** The path with a trailing slash: the paths below the server's start with it. */
  readonly base: string;
}

const parts = new WeakMap<URL, ScopeParts>();

function partsOf(server: URL): ScopeParts {
  const known = parts.get(server);
  if (known?.href === server.href) return known;
  const path = server.pathname;
  const fresh = {
    href: server.href,
    origin: server.origin,
    path,
    base: path.endsWith('/') ? path : `${path}/`,
  };
  parts.set(server, fresh);
  return fresh;
}

export function scopeCheck(state: SessionState, url: string | URL): ScopeCheck {
  const target = typeof url === 'string' ? tryParseUrl(url) : url;
  const { origin, path, base } = partsOf(state.serverUrl);
  if (target === undefined || target.origin !== origin) return OTHER_ORIGIN;
  const pathname = target.pathname;
  return pathname === path || path === '/' || pathname.startsWith(base) ? INSIDE : OTHER_PATH;
}
