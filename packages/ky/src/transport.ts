import type { NormalizedOptions, Options } from 'ky';

/**
 * How ky sends one attempt of a call: its `fetch`, its per-attempt `timeout`, and the options it
 * hands to `fetch` untouched (e.g. undici's `dispatcher`). The hooks send the auth retry and the
 * redirect hops with it, so they leave through the same proxy, agent and timeout as the first try.
 */
export interface Transport {
  readonly fetch: (input: Request, init?: RequestInit) => Promise<Response>;
  readonly timeout: number | false;
  readonly init: Record<string, unknown>;
}

/** Options ky applies itself (its own, and the `RequestInit` members it builds the `Request` from). */
const APPLIED_BY_KY = new Set([
  ...['json', 'parseJson', 'stringifyJson', 'searchParams', 'prefixUrl', 'prefix', 'baseUrl', 'context'],
  ...['retry', 'timeout', 'totalTimeout', 'hooks', 'throwHttpErrors', 'fetch'],
  ...['onDownloadProgress', 'onUploadProgress', 'method', 'headers', 'body', 'mode', 'credentials'],
  ...['cache', 'redirect', 'referrer', 'referrerPolicy', 'integrity', 'keepalive', 'signal', 'window'],
  ...['duplex', 'priority'],
]);

/** The options ky passes through to `fetch` as they are, such as `dispatcher`. */
export function fetchOnlyOptions(options: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(options).filter(([name]) => !APPLIED_BY_KY.has(name)));
}

interface Captured {
  readonly fetch?: Options['fetch'] | undefined;
  readonly timeout?: Options['timeout'] | undefined;
}
const captured = new WeakMap<object, Captured>();

/**
 * ky 2 `init` hook. ky 2 keeps `fetch` and `timeout` out of the options its other hooks see, so
 * they are noted here against this call's own `context` object (ky 1 hands them to every hook).
 */
export function captureTransport(options: Options): void {
  const context = { ...options.context };
  options.context = context;
  captured.set(context, { fetch: options.fetch, timeout: options.timeout });
}

export function transportFor(options: NormalizedOptions): Transport {
  const legacy = options as NormalizedOptions & Captured; // ky 1 includes both
  const saved = captured.get(options.context);
  const fetch = legacy.fetch ?? saved?.fetch ?? ((input, init) => globalThis.fetch(input, init));
  return {
    fetch: (input, init) => fetch(input, init),
    timeout: legacy.timeout ?? saved?.timeout ?? 10_000,
    init: fetchOnlyOptions(options),
  };
}

/** One attempt, aborted by the call's signal or after ky's per-attempt timeout (then ky's `TimeoutError`). */
export async function sendWith(transport: Transport, request: Request): Promise<Response> {
  if (transport.timeout === false) return transport.fetch(request, transport.init);
  const timer = AbortSignal.timeout(transport.timeout);
  const signal = anySignal([request.signal, timer]);
  try {
    return await transport.fetch(new Request(request, { signal }), transport.init);
  } catch (error) {
    if (!timer.aborted || request.signal.aborted) throw error;
    // ky is ESM only: imported when needed, so that `require('@mcp-oauth/ky')` works before Node 20.19.
    const { TimeoutError } = await import('ky');
    throw new TimeoutError(request);
  }
}

/** `AbortSignal.any`, which Node 20.0 to 20.2 lack. */
function anySignal(signals: AbortSignal[]): AbortSignal {
  if (typeof AbortSignal.any === 'function') return AbortSignal.any(signals);
  const controller = new AbortController();
  for (const signal of signals) {
    if (signal.aborted) {
      controller.abort(signal.reason);
      break;
    }
    signal.addEventListener('abort', () => controller.abort(signal.reason), {
      once: true,
      signal: controller.signal, // the listeners go once the combined signal has fired
    });
  }
  return controller.signal;
}
