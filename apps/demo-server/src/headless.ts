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

/**
 * The browser's whole round trip in a headless run: {@link followAuthorization}, then a visit to
 * the redirect URI it ended on, as the browser would make, which hands the code to the client's
 * loopback callback server (`createLoopbackAuthorizationHandler({ open: approveAuthorization })`
 * from `@mcp-oauth/node`). The redirect URI must be on loopback. Throws unless its page answers
 * 200, so a callback nobody waits for fails the run instead of leaving it waiting.
 */
export async function approveAuthorization(
  authorizationUrl: string,
  options: FollowAuthorizationOptions = {},
): Promise<void> {
  const redirect = new URL(await followAuthorization(authorizationUrl, options));
  if (redirect.protocol !== 'http:' || !['127.0.0.1', '[::1]', 'localhost'].includes(redirect.hostname)) {
    throw new Error('the authorization server redirected to a redirect URI that is not on loopback');
  }
  const response = await fetch(redirect, { redirect: 'manual', signal: options.signal ?? null });
  await response.body?.cancel();
  if (response.status !== 200) throw new Error(`the redirect URI answered HTTP ${response.status}`);
}

export interface DeviceDecisionOptions {
  /** `approve` confirms the code (and consent, with `autoApprove`); `deny` aborts at the confirmation page. */
  readonly decision?: 'approve' | 'deny';
  readonly maxRedirects?: number;
  readonly signal?: AbortSignal;
}

function decodeHtml(value: string): string {
  return value
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}

/** The action and hidden fields of the first form on a page. */
function readForm(html: string, base: string): { action: string; fields: Record<string, string> } {
  const form = /<form\b[^>]*\baction="([^"]*)"[^>]*>([\s\S]*?)<\/form>/i.exec(html);
  if (form === null) throw new Error('the verification page has no form');
  const fields: Record<string, string> = {};
  for (const input of (form[2] ?? '').matchAll(/<input\b[^>]*>/gi)) {
    const tag = input[0];
    if (!/\btype="hidden"/i.test(tag)) continue;
    const name = /\bname="([^"]*)"/i.exec(tag)?.[1];
    const value = /\bvalue="([^"]*)"/i.exec(tag)?.[1];
    if (name !== undefined) fields[decodeHtml(name)] = decodeHtml(value ?? '');
  }
  return { action: new URL(decodeHtml(form[1] ?? ''), base).href, fields };
}

/**
 * What a person does with a device authorization's `verification_uri_complete` when the demo
 * server runs with `autoApprove`: open it (oidc-provider answers with a form that carries the code
 * and an XSRF token), submit it, then on the confirmation page press Continue (`approve`) or
 * Abort (`deny`), following redirects through login and consent with the server's cookies.
 * Resolves once the server shows its success page (approve) or the code page again (deny).
 * Errors name statuses only, never a URL or a code.
 */
export async function decideDeviceAuthorization(
  verificationUriComplete: string,
  options: DeviceDecisionOptions = {},
): Promise<void> {
  const jar = new Map<string, string>();
  const origin = new URL(verificationUriComplete).origin;
  const send = async (url: string, form?: Record<string, string>): Promise<Response> => {
    if (new URL(url).origin !== origin)
      throw new Error('the verification flow left the authorization server');
    const cookie = [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
    const headers: Record<string, string> = cookie === '' ? {} : { cookie };
    if (form !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await fetch(url, {
      method: form === undefined ? 'GET' : 'POST',
      redirect: 'manual',
      headers,
      body: form === undefined ? null : new URLSearchParams(form).toString(),
      signal: options.signal ?? null,
    });
    storeCookies(jar, response);
    return response;
  };
  const page = async (response: Response, what: string): Promise<string> => {
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new Error(`the ${what} answered HTTP ${response.status}`);
    }
    return response.text();
  };

  // The code is in the URL: oidc-provider answers with a self-submitting form carrying it.
  const entry = await send(verificationUriComplete);
  const submit = readForm(await page(entry, 'verification page'), verificationUriComplete);
  const confirmation = await send(submit.action, submit.fields);
  const confirm = readForm(await page(confirmation, 'code submission'), submit.action);
  if (options.decision === 'deny') {
    const { confirm: _continue, ...fields } = confirm.fields;
    const aborted = await send(confirm.action, { ...fields, abort: 'yes' });
    await page(aborted, 'abort');
    return;
  }
  let response = await send(confirm.action, confirm.fields);
  let url = confirm.action;
  for (let hop = 0; hop <= (options.maxRedirects ?? 10); hop++) {
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || location === null) break;
    await response.body?.cancel();
    url = new URL(location, url).href;
    response = await send(url);
  }
  const html = await page(response, 'authorization server');
  if (!html.includes('<h1>Device connected</h1>')) {
    throw new Error(
      'the authorization server shows a page that needs a person (start the demo server with autoApprove)',
    );
  }
}
