import { isOAuthClientError, oauthError } from '../errors.js';

/** Rejects with `aborted` as soon as the signal fires, even if `promise` never settles. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(oauthError('aborted', 'the request was aborted'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(oauthError('aborted', 'the request was aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

export function isAbort(error: unknown): boolean {
  return isOAuthClientError(error, 'aborted');
}

/** An error's stable code for logs (`unexpected` for anything that is not ours). */
export function codeOf(error: unknown): string {
  return isOAuthClientError(error) ? error.code : 'unexpected';
}
