/**
 * What a browser does with an authorization URL when the demo server runs with `autoApprove`:
 * follow the authorization server's redirects (authorize → interaction → authorize), keeping its
 * cookies, until a redirect leaves for the client's redirect URI. oidc-provider binds each step to
 * a cookie, so a single request is not enough.
 */

export interface FollowAuthorizationOptions {
  /** At most this many redirects within the authorization server. Default 10. */
  readonly maxRedirects?: number;
  readonly signal?: AbortSignal;
}

/** A cookie jar for one origin: name → value. Paths are ignored; the jar lives for one run. */
function storeCookies(jar: Map<string, string>, response: Response): void {
  for (const line of response.headers.getSetCookie()) {
    const pair = line.split(';', 1)[0] ?? '';
    const separator = pair.indexOf('=');
    if (separator <= 0) continue;
    const name = pair.slice(0, separator).trim();
    const value = pair.slice(separator + 1).trim();
    const expired = /;\s*expires=Thu, 01 Jan 1970/i.test(line) || /;\s*max-age=0/i.test(line);
    if (expired || value === '') jar.delete(name);
    else jar.set(name, value);
  }
}

/**
 * Returns the redirect URI the authorization server sent the browser to, with its `code`,
 * `state` and `iss` (or `error`). Throws if the server shows a page instead (the consent page when
 * `autoApprove` is off, or an error page). Error messages name statuses only, never a URL.
 */
export async function followAuthorization(
  authorizationUrl: string,
  options: FollowAuthorizationOptions = {},
): Promise<string> {
  const origin = new URL(authorizationUrl).origin;
  const jar = new Map<string, string>();
  let url = authorizationUrl;
  for (let hop = 0; hop <= (options.maxRedirects ?? 10); hop++) {
    const cookie = [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await fetch(url, {
      redirect: 'manual',
      headers: cookie === '' ? {} : { cookie },
      signal: options.signal ?? null,
    });
    await response.body?.cancel();
    storeCookies(jar, response);
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || location === null) {
      throw new Error(
        response.status === 200
          ? 'the authorization server shows a page that needs a person (start the demo server with autoApprove)'
          : `the authorization server answered HTTP ${response.status} instead of redirecting`,
      );
    }
    const next = new URL(location, url);
    if (next.origin !== origin) return next.href;
    url = next.href;
  }
  throw new Error('the authorization server redirected too many times');
}
