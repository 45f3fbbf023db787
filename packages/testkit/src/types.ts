import type { OAuthHttpClient, OAuthSession } from '@mcp-oauth/core';

/**
 * The contract every adapter meets, described once. An adapter package runs
 * `describeAdapterContract(harness)` from its own test file; the suite starts real HTTP servers on
 * 127.0.0.1 and drives the adapter through the harness.
 */

/** The request bodies the suite sends; each harness maps them onto its library's options. */
export type BodyKind = 'json' | 'text' | 'urlsearchparams' | 'formdata' | 'bytes' | 'stream';

export interface ContractBody {
  readonly kind: BodyKind;
  /**
   * The bytes the server must receive, identical on the first request and on the retry. For
   * `formdata` the library picks the multipart boundary, so the suite compares the two sends with
   * the boundary blanked out and checks that `expected` (the file part's content) occurs in them.
   */
  readonly expected: Uint8Array;
  /**
   * A value in the form the kind describes: a plain object for `json` (send it as JSON), a string
   * for `text`, a `URLSearchParams`, a `FormData`, a `Uint8Array`, or a web `ReadableStream<Uint8Array>`
   * for `stream` (a harness whose library takes Node streams converts it with `Readable.fromWeb`).
   */
  readonly value: unknown;
  /** The content type the harness should send, when the library would not set one itself. */
  readonly contentType?: string;
}

export interface ContractRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: ContractBody;
  readonly signal?: AbortSignal;
}

/**
 * What the harness reports. A 4xx/5xx that the library turns into an error is reported as
 * `{ status, body }` (read from the library's error); any other failure as `{ error }` with the
 * thrown value unchanged, so the suite can check its type and code.
 */
export type ContractResponse =
  | {
      readonly status: number;
      readonly body: string;
      readonly error?: undefined;
      /** The error the library threw for this status (ky's HTTPError, an AxiosError, got's HTTPError), as it was. */
      readonly raised?: unknown;
    }
  | {
      readonly error: unknown;
      readonly status?: undefined;
      readonly body?: undefined;
      readonly raised?: undefined;
    };

export interface AdapterClient {
  request(request: ContractRequest): Promise<ContractResponse>;
  /** Removes the adapter from a shared instance, where the library's idiom allows it. */
  dispose?(): void;
}

/**
 * How the suite asks for a library instance configured like an application's: with default
 * headers (e.g. `ky.create({ headers })`, `axios.create({ headers })`, `got.extend({ headers })`).
 * `createClient` must send them on every request (the suite checks they reach the MCP server);
 * `createHttpClient` must be built over an instance that has them, and the suite checks that they
 * never reach the authorization server. A library without instance defaults (fetch) adds them to
 * each request in `createClient` and has nothing to do in `createHttpClient`.
 */
export interface HarnessOptions {
  readonly defaultHeaders?: Readonly<Record<string, string>>;
}

export interface AdapterHarness {
  /** e.g. `ky 1.0.0` — several harnesses per package cover the library versions. */
  readonly name: string;
  /** A client (instance, wrapper or hooks) that authorizes requests with `session`. */
  createClient(session: OAuthSession, options?: HarnessOptions): AdapterClient;
  /** The adapter's `OAuthHttpClient` over the same library. */
  createHttpClient(options?: HarnessOptions): OAuthHttpClient;
  /** The library throws for a 4xx/5xx status by default (the harness then reports that error as `raised`). */
  readonly throwsHttpErrors: boolean;
  /** Body kinds the library can send again on the retry; the others must fail with `request_not_replayable`. */
  readonly replayableBodies: readonly BodyKind[];
}
