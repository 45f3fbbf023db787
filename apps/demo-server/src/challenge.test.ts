import { describe, expect, it } from 'vitest';
import { buildChallenges, type ChallengeInput } from './challenge.js';

const PRM = 'http://127.0.0.1:2000/.well-known/oauth-protected-resource/mcp';

describe('buildChallenges', () => {
  it.each<[string, ChallengeInput, string[]]>([
    [
      'no token',
      { resourceMetadataUrl: PRM, scope: 'mcp:tools' },
      [`Bearer resource_metadata="${PRM}", scope="mcp:tools"`],
    ],
    [
      'an invalid token',
      { resourceMetadataUrl: PRM, scope: 'mcp:tools', error: 'invalid_token', description: 'expired' },
      [
        `Bearer error="invalid_token", error_description="expired", resource_metadata="${PRM}", scope="mcp:tools"`,
      ],
    ],
    [
      'insufficient scope',
      {
        resourceMetadataUrl: PRM,
        scope: 'mcp:tools mcp:admin',
        error: 'insufficient_scope',
        description: 'more',
      },
      [
        `Bearer error="insufficient_scope", error_description="more", resource_metadata="${PRM}", scope="mcp:tools mcp:admin"`,
      ],
    ],
    [
      'no token, DPoP on',
      { resourceMetadataUrl: PRM, scope: 'mcp:tools', dpopAlgorithms: ['ES256'] },
      [
        `Bearer resource_metadata="${PRM}", scope="mcp:tools"`,
        `DPoP algs="ES256", resource_metadata="${PRM}", scope="mcp:tools"`,
      ],
    ],
    [
      'a bad DPoP proof: the error goes on the DPoP challenge only',
      {
        resourceMetadataUrl: PRM,
        scope: 'mcp:tools',
        error: 'invalid_dpop_proof',
        description: 'stale',
        dpopAlgorithms: ['ES256'],
      },
      [
        `Bearer resource_metadata="${PRM}", scope="mcp:tools"`,
        `DPoP error="invalid_dpop_proof", error_description="stale", algs="ES256", resource_metadata="${PRM}", scope="mcp:tools"`,
      ],
    ],
    [
      'quotes and backslashes',
      { resourceMetadataUrl: PRM, scope: 's', error: 'invalid_token', description: 'a "b" \\c' },
      [
        `Bearer error="invalid_token", error_description="a \\"b\\" \\\\c", resource_metadata="${PRM}", scope="s"`,
      ],
    ],
  ])('%s', (_name, input, expected) => {
    expect(buildChallenges(input)).toEqual(expected);
  });
});
