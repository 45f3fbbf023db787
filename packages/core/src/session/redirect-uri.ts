/**
 * One redirect URI per authorization server, where the client controls it: a loopback redirect
 * URI (RFC 8252 §7.3) registered dynamically gets a path segment naming the issuer. An
 * authorization response that arrives on another authorization server's URI is then refused,
 * which closes the mix-up attack even where the server sends no RFC 9207 `iss`
 * (RFC 9700 §4.4.2, "distinct redirect URIs").
 */
import { isLoopbackHost, tryParseUrl } from '../url.js';

/** FNV-1a, 32 bits: a short, stable, non-secret name for an issuer in a URL path. */
function issuerTag(issuer: string): string {
  let hash = 0x811c9dc5;
  for (let index = 0; index < issuer.length; index++) {
    hash ^= issuer.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(36);
}

/** `uri` for `issuer`: loopback http(s) URIs get `/as-<tag>` appended to their path; others are kept. */
export function redirectUriForIssuer(uri: string, issuer: string): string {
  const url = tryParseUrl(uri);
  if (url === undefined || url.search !== '' || !isLoopbackHost(url.hostname)) return uri;
  const path = url.pathname.endsWith('/') ? url.pathname.slice(0, -1) : url.pathname;
  url.pathname = `${path}/as-${issuerTag(issuer)}`;
  return url.href;
}

/** Origin and path of a URL (what a redirect URI and the URL a callback arrived on must share). */
export function redirectTarget(uri: string | URL): string | undefined {
  const url = typeof uri === 'string' ? tryParseUrl(uri) : uri;
  return url === undefined ? undefined : `${url.origin}${url.pathname}`;
}
