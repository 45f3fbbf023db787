import { oauthError } from './errors.js';
import { assertNoMorePrivateNetwork, isLinkLocalUrl, type NetworkRuleOptions } from './network.js';

/** Hosts that resolve to the local machine without DNS: `localhost`, 127.0.0.0/8 and `[::1]`. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (host === '[::1]') return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

export function tryParseUrl(value: string, base?: string | URL): URL | undefined {
  try {
    return base === undefined ? new URL(value) : new URL(value, base);
  } catch {
    return undefined;
  }
}

export interface UrlSafetyOptions {
  /** What the URL is, for the error message: `"resource_metadata"`, `"token_endpoint"`, … */
  what: string;
  /** Allow `http:` when the host is loopback. */
  allowLoopbackHttp: boolean;
}

/**
 * Validates a URL that came from a header, a metadata document or configuration: https only
 * (http only for loopback hosts when allowed), no userinfo, no fragment, never link-local (in any
 * IPv4 or IPv6 form, see `network.ts`). A URL learned from a server must also pass
 * `assertNoMorePrivateNetwork` against that server.
 */
export function assertSafeUrl(value: unknown, options: UrlSafetyOptions): URL {
  const fail = (rule: string) => oauthError('unsafe_url', `${options.what} must ${rule}`);
  const url = typeof value === 'string' && value.length <= 4096 ? tryParseUrl(value) : undefined;
  if (url === undefined) throw fail('be an absolute URL');
  if (url.username !== '' || url.password !== '') throw fail('not contain credentials');
  if (url.hash !== '') throw fail('not contain a fragment');
  if (isLinkLocalUrl(url)) throw fail('not point to a link-local address');
  if (url.protocol === 'https:') return url;
  if (url.protocol !== 'http:') throw fail('use https');
  if (options.allowLoopbackHttp && isLoopbackHost(url.hostname)) return url;
  throw fail('use https (http is allowed only for loopback)');
}

/** A URL a server named: safe, and no more private than that server (`unsafe_url` otherwise). */
export function assertNamedUrl(value: unknown, rule: UrlSafetyOptions & NetworkRuleOptions): URL {
  const url = assertSafeUrl(value, rule);
  assertNoMorePrivateNetwork(url, rule);
  return url;
}

/** True when an MCP server URL is on loopback, which is what allows http for URLs it hands out. */
export function allowsLoopbackHttp(serverUrl: URL): boolean {
  return serverUrl.protocol === 'http:' && isLoopbackHost(serverUrl.hostname);
}

/**
 * The canonical URI of an MCP server (RFC 8707 §2 and the MCP authorization spec): scheme and host
 * lower-cased, no fragment, and no trailing slash added to a bare origin.
 */
export function canonicalResourceUrl(url: URL | string): string {
  const parsed = typeof url === 'string' ? new URL(url) : new URL(url.href);
  parsed.hash = '';
  const path = parsed.pathname === '/' ? '' : parsed.pathname;
  return `${parsed.origin}${path}${parsed.search}`;
}

/** An issuer as the server (or the user) wrote it, when it has no query or fragment; else redacted. */
export function displayIssuer(issuer: string): string {
  const parsed = tryParseUrl(issuer);
  return parsed !== undefined && parsed.search === '' && parsed.hash === '' ? issuer : redactUrl(issuer);
}

/** `https://host/a/b?q` → `https://host/a/b` — the only form of a URL allowed in messages and logs. */
export function redactUrl(url: URL | string): string {
  const parsed = typeof url === 'string' ? tryParseUrl(url) : url;
  if (parsed === undefined) return '(invalid url)';
  return `${parsed.origin}${parsed.pathname}`;
}

/** True when `candidate` is inside `resource`: same origin and a path equal to or below its path. */
export function isWithinResource(candidate: URL, resource: URL): boolean {
  if (candidate.origin !== resource.origin) return false;
  const base = resource.pathname.endsWith('/') ? resource.pathname : `${resource.pathname}/`;
  return candidate.pathname === resource.pathname || candidate.pathname.startsWith(base) || base === '/';
}

function insertWellKnown(url: URL, suffix: string): string {
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return `${url.origin}/.well-known/${suffix}${path}`;
}

/** RFC 9728 §3.1 candidates for a server URL: path-inserted (when the path is not `/`), then root. */
export function protectedResourceMetadataUrls(serverUrl: URL): string[] {
  const rootUrl = `${serverUrl.origin}/.well-known/oauth-protected-resource`;
  const inserted = insertWellKnown(serverUrl, 'oauth-protected-resource');
  return inserted === rootUrl ? [rootUrl] : [inserted, rootUrl];
}

/** The discovery order of the MCP 2026-07-28 revision for an issuer with or without a path. */
export function authorizationServerMetadataUrls(issuer: URL): string[] {
  const path = issuer.pathname === '/' ? '' : issuer.pathname.replace(/\/$/, '');
  if (path === '') {
    return [
      `${issuer.origin}/.well-known/oauth-authorization-server`,
      `${issuer.origin}/.well-known/openid-configuration`,
    ];
  }
  return [
    `${issuer.origin}/.well-known/oauth-authorization-server${path}`,
    `${issuer.origin}/.well-known/openid-configuration${path}`,
    `${issuer.origin}${path}/.well-known/openid-configuration`,
  ];
}
