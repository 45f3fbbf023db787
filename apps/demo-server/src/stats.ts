/**
 * Requests per endpoint, counted as they arrive, and one event per answered request. Neither
 * carries a query string, a header or a body, so no code or token ever reaches them.
 */
import type { NextFunction, Request, Response } from 'express';
import type { DemoEndpoint, DemoRequestEvent } from './options.js';

export type DemoServerStats = Readonly<Record<DemoEndpoint, number>>;

const ENDPOINTS: readonly DemoEndpoint[] = [
  'protectedResourceMetadata',
  'authorizationServerMetadata',
  'jwks',
  'registration',
  'authorize',
  'consent',
  'deviceAuthorization',
  'deviceVerification',
  'token',
  'revocation',
  'mcp',
  'other',
];

export class RequestCounter {
  readonly #counts = new Map<DemoEndpoint, number>(ENDPOINTS.map((endpoint) => [endpoint, 0]));
  readonly #onRequest: ((event: DemoRequestEvent) => void) | undefined;

  constructor(onRequest: ((event: DemoRequestEvent) => void) | undefined) {
    this.#onRequest = onRequest;
  }

  /** Express middleware counting each request under the endpoint `classify` names. */
  middleware(
    server: DemoRequestEvent['server'],
    classify: (path: string) => DemoEndpoint,
  ): (request: Request, response: Response, next: NextFunction) => void {
    return (request, response, next) => {
      const path = request.path;
      const endpoint = classify(path);
      this.#counts.set(endpoint, (this.#counts.get(endpoint) ?? 0) + 1);
      const onRequest = this.#onRequest;
      if (onRequest !== undefined) {
        response.once('finish', () => {
          onRequest({ server, endpoint, method: request.method, path, status: response.statusCode });
        });
      }
      next();
    };
  }

  snapshot(): DemoServerStats {
    return Object.fromEntries(this.#counts) as DemoServerStats;
  }
}
