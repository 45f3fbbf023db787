import { CREDENTIAL_HEADER_NAMES, REDACTED, redactSentRequest } from '@mcp-oauth/core/adapter';

type Holder = { readonly headers?: Record<string, unknown> } | undefined;

/**
 * What got keeps of a sent request: an error's options and `Request`, a `Request`'s options and
 * their copy handed to `http.request` (`_requestOptions`), Node's `ClientRequest` (a `Request`'s
 * `_request`, a response's `req`), and the response an error or `Request` leads to.
 */
interface Sent {
  readonly options?: Holder;
  readonly _requestOptions?: Holder;
  readonly _request?: unknown;
  readonly req?: unknown;
  readonly request?: Sent;
  readonly response?: Sent;
}

/**
 * Replaces `Authorization` and `DPoP` values, once sent, in a got error or response, and returns
 * it: in got's options and the `Request` it holds, and in Node's `ClientRequest` (the `Request`'s
 * and the response's, each once), so that `util.inspect` or `JSON.stringify` prints no token.
 */
export function redactSent<T>(target: T): T {
  const sent = Object(target) as Sent;
  for (const holder of [sent.options, sent.request?.options, sent.request?._requestOptions]) {
    const headers = holder?.headers;
    // got keeps header names in lower case: only the credential names need looking up.
    for (const name of CREDENTIAL_HEADER_NAMES) if (headers?.[name] !== undefined) headers[name] = REDACTED;
  }
  const clientRequests = new Set([sent.request?._request, sent.req, sent.response?.req]);
  for (const clientRequest of clientRequests) redactSentRequest(clientRequest);
  return target;
}
