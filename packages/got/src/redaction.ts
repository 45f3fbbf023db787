import {
  CREDENTIAL_HEADER_NAMES,
  REDACTED,
  redactCredentialHeaders,
  redactRawHeaders,
} from '@mcp-oauth/core/adapter';

/** A got error, response or `Request`: the parts of them that hold a sent request's headers. */
interface Sent {
  readonly options?: { readonly headers?: unknown };
  /** The options got handed to `http.request`, with a copy of the headers. */
  readonly _requestOptions?: { readonly headers?: unknown };
  /** Node's `ClientRequest`: a got `Request`'s `_request`, a response's `req`. */
  readonly _request?: unknown;
  readonly req?: unknown;
  readonly request?: Sent;
  readonly response?: Sent;
}

/**
 * Replaces `Authorization` and `DPoP` values, once sent, in a got error, response or `Request` and
 * in what they hold (its request, its response's request, Node's `ClientRequest` with its raw
 * `_header` and stored headers), so that `util.inspect` or `JSON.stringify` prints no token.
 */
export function redactSent(target: unknown, depth = 0): void {
  if (typeof target !== 'object' || target === null || depth > 2) return;
  const sent = target as Sent;
  redactCredentialHeaders(sent.options?.headers);
  redactCredentialHeaders(sent._requestOptions?.headers);
  for (const request of [sent._request, sent.req]) redactClientRequest(request);
  redactSent(sent.request, depth + 1);
  redactSent(sent.response, depth + 1);
}

/**
 * Node's `ClientRequest`: the head it wrote (`_header`, and `outputData` until a socket takes it),
 * the headers it was given (`[kOutHeaders]`: name → [name, value]) and its options while it waits
 * for a socket.
 */
function redactClientRequest(request: unknown): void {
  if (typeof request !== 'object' || request === null) return;
  const raw = request as { _header?: unknown; outputData?: unknown } & Record<symbol, unknown>;
  if (typeof raw._header === 'string') raw._header = redactRawHeaders(raw._header);
  for (const chunk of Array.isArray(raw.outputData) ? (raw.outputData as Array<{ data?: unknown }>) : []) {
    if (typeof chunk.data === 'string') chunk.data = redactRawHeaders(chunk.data);
  }
  for (const symbol of Object.getOwnPropertySymbols(raw)) {
    const value = raw[symbol] as (Record<string, unknown> & { headers?: unknown }) | null | undefined;
    if (symbol.description !== 'kOutHeaders') redactCredentialHeaders(value?.headers);
    else
      for (const name of CREDENTIAL_HEADER_NAMES)
        (value?.[name] as unknown[] | undefined)?.splice(1, 1, REDACTED);
  }
}
