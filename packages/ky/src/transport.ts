import type { KyInstance, Options } from 'ky';

/** A `fetch` as ky calls it: with ky's `Request`, and the options ky hands `fetch` as they are. */
export type KyFetch = NonNullable<Options['fetch']>;

// What ky applies itself: its own options, and the `RequestInit` members it builds the `Request` from.
const KY_OPTIONS = 'json parseJson stringifyJson searchParams prefixUrl prefix baseUrl context retry timeout';
const MORE_KY_OPTIONS = 'totalTimeout hooks throwHttpErrors fetch onDownloadProgress onUploadProgress';
const REQUEST_OPTIONS = 'method headers body mode credentials cache redirect referrer referrerPolicy';
const MORE_REQUEST_OPTIONS = 'integrity keepalive signal window duplex';
const APPLIED_BY_KY = new Set(
  `${KY_OPTIONS} ${MORE_KY_OPTIONS} ${REQUEST_OPTIONS} ${MORE_REQUEST_OPTIONS}`.split(' '),
);

/** The options ky passes to `fetch` untouched, such as undici's `dispatcher`. */
export function fetchOnlyOptions(options: object): RequestInit {
  return Object.fromEntries(Object.entries(options).filter(([name]) => !APPLIED_BY_KY.has(name)));
}

/**
 * The `fetch` and fetch-only options of `instance`. ky shows an instance its options only from
 * 1.5 on (`extend` with a function); before that this is the global `fetch` and nothing else.
 */
export function transportOf(instance?: KyInstance): { fetch: KyFetch; init: RequestInit } {
  let defaults: Options = {};
  try {
    instance?.extend((parent) => {
      defaults = parent;
      return {};
    });
  } catch {
    // ky 1.0–1.4: `extend` takes only an object.
  }
  return {
    fetch: defaults.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    init: fetchOnlyOptions(defaults),
  };
}
