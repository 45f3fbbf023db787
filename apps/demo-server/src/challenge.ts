/**
 * `WWW-Authenticate` challenges of the MCP server (RFC 6750 §3, RFC 9728 §5.1, RFC 9449 §7.1).
 * The Bearer challenge always comes first: some clients read only a header that starts with
 * `Bearer`. With DPoP on, a DPoP challenge follows, naming the accepted algorithms.
 */

export type ChallengeError =
  | 'invalid_request'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'invalid_dpop_proof';

export interface ChallengeInput {
  readonly resourceMetadataUrl: string;
  /** The scopes the request needs, space-separated. */
  readonly scope: string;
  readonly error?: ChallengeError;
  /** Fixed text; never a token or a value from the request. */
  readonly description?: string;
  /** DPoP algorithms, when the server accepts DPoP-bound tokens. */
  readonly dpopAlgorithms?: readonly string[];
}

function quote(value: string): string {
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

function challenge(scheme: string, parameters: readonly (readonly [string, string | undefined])[]): string {
  const rendered = parameters
    .filter((entry): entry is readonly [string, string] => entry[1] !== undefined)
    .map(([name, value]) => `${name}=${quote(value)}`);
  return `${scheme} ${rendered.join(', ')}`;
}

/** One header value per scheme, Bearer first. */
export function buildChallenges(input: ChallengeInput): string[] {
  // `invalid_dpop_proof` is about the DPoP scheme only.
  const bearerError = input.error === 'invalid_dpop_proof' ? undefined : input.error;
  const shared = [
    ['resource_metadata', input.resourceMetadataUrl],
    ['scope', input.scope],
  ] as const;
  const challenges = [
    challenge('Bearer', [
      ['error', bearerError],
      ['error_description', bearerError === undefined ? undefined : input.description],
      ...shared,
    ]),
  ];
  if (input.dpopAlgorithms !== undefined) {
    challenges.push(
      challenge('DPoP', [
        ['error', input.error],
        ['error_description', input.error === undefined ? undefined : input.description],
        ['algs', input.dpopAlgorithms.join(' ')],
        ...shared,
      ]),
    );
  }
  return challenges;
}
