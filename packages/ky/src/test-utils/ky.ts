// Shared by the contract harnesses and the unit tests: every installed ky, and the contract's
// requests and responses in ky's terms.
import type { ContractRequest, ContractResponse } from '@mcp-oauth/testkit';
import type { KyInstance, Options } from 'ky';
import ky from 'ky';
import ky1 from 'ky-1.0.0';
import ky1Latest from 'ky-1-latest';
import ky2 from 'ky-2.0.0';

/** Every installed ky, typed as the newest: the adapter is written against ky 2's types. */
export const KY_VERSIONS: ReadonlyArray<readonly [name: string, ky: KyInstance]> = [
  ['ky 1.0.0', ky1 as unknown as KyInstance],
  ['ky 1 latest', ky1Latest as unknown as KyInstance],
  ['ky 2.0.0', ky2 as unknown as KyInstance],
  ['ky 2 latest', ky],
];

/** The contract's request in ky's own terms. */
export function kyOptions(request: ContractRequest): Options {
  const headers: Record<string, string> = { ...request.headers };
  const body = request.body;
  if (body?.contentType !== undefined && body.kind !== 'json') headers['content-type'] = body.contentType;
  return {
    method: request.method,
    headers,
    ...(body === undefined
      ? {}
      : body.kind === 'json'
        ? { json: body.value }
        : { body: body.value as BodyInit }),
    ...(request.signal === undefined ? {} : { signal: request.signal }),
  };
}

/** A ky outcome as the contract reports it: an `HTTPError` is its status and body, and the error as `raised`. */
export async function report(sending: Promise<Response>): Promise<ContractResponse> {
  try {
    const response = await sending;
    return { status: response.status, body: await response.text() };
  } catch (error) {
    if (error instanceof Error && error.name === 'HTTPError') {
      const { response, data } = error as Error & { response: Response; data?: unknown };
      const body = response.bodyUsed
        ? typeof data === 'string'
          ? data
          : JSON.stringify(data ?? '')
        : await response.text();
      return { status: response.status, body, raised: error };
    }
    return { error };
  }
}
