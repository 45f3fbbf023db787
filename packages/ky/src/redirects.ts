import { AUTHORIZATION_HEADER_NAMES, type OAuthSession, planRedirect } from '@mcp-oauth/core';
import { sendWith, type Transport } from './transport.js';

/** A request as it went out and the response it got. */
export interface Exchange {
  readonly request: Request;
  readonly response: Response;
}

/** `headers` with the credentials core gives `method` and `url` in place of those it gave before. */
export async function credentialedHeaders(
  session: OAuthSession,
  headers: Headers,
  request: { readonly method: string; readonly url: string; readonly signal: AbortSignal },
): Promise<Headers> {
  const next = new Headers(headers);
  for (const name of AUTHORIZATION_HEADER_NAMES) next.delete(name);
  const { method, url, signal } = request;
  for (const [name, value] of Object.entries(
    await session.getAuthorizationHeaders({ method, url, signal }),
  )) {
    next.set(name, value);
  }
  return next;
}

/** Lets go of a response that will not be read (without waiting: it may be one branch of a tee). */
export function discard(response: Response): void {
  response.body?.cancel().catch(() => {});
}

/**
 * Follows the redirects of a request that carried credentials (the hooks send those with
 * `redirect: 'manual'`) the way fetch would — same method and body after 307/308, a GET without
 * a body after 303, or after 301/302 of a POST — but each hop carries only the credentials core
 * gives its own URL: none once it leaves the protected resource, a fresh DPoP proof inside it.
 * `body` reads the request's body again; `undefined` when it cannot be sent twice, and then a
 * redirect that would need it is handed back as it is. `transport` is asked for only to send a hop.
 */
export async function followRedirects(
  exchange: Exchange,
  body: (() => Promise<ArrayBuffer>) | undefined,
  session: OAuthSession,
  transport: () => Transport,
): Promise<Exchange> {
  let { request, response } = exchange;
  for (let hop = 0; ; hop++) {
    const hidden = response.type === 'opaqueredirect'; // a browser: only fetch may see where it goes
    const plan = hidden
      ? { url: request.url, method: request.method, dropBody: false, dropHeaders: AUTHORIZATION_HEADER_NAMES }
      : planRedirect({
          status: response.status,
          location: response.headers.get('location'),
          method: request.method,
          url: request.url,
          hop,
        });
    if (plan === undefined) return { request, response };
    const payload = plan.dropBody || request.body === null ? null : await body?.();
    if (payload === undefined) return { request, response };
    const headers = new Headers(request.headers);
    for (const name of plan.dropHeaders) headers.delete(name);
    const next = hidden
      ? headers
      : await credentialedHeaders(session, headers, {
          method: plan.method,
          url: plan.url,
          signal: request.signal,
        });
    discard(response);
    request = new Request(plan.url, {
      method: plan.method,
      headers: next,
      body: payload,
      signal: request.signal,
      redirect: hidden ? 'follow' : 'manual',
      credentials: request.credentials,
    });
    response = await sendWith(transport(), request);
    if (hidden) return { request, response };
  }
}
