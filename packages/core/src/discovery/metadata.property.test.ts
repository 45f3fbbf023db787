import fc from 'fast-check';
import { describe, it } from 'vitest';
import { OAuthClientError } from '../errors.js';
import { parseJsonObject } from '../http.js';
import { networkClassOf } from '../network.js';
import { check, outcomeTally } from '../test-utils/property.js';
import { assertSafeUrl } from '../url.js';
import { validateAuthorizationServerMetadata } from './authorization-server.js';
import { validateProtectedResourceMetadata } from './protected-resource.js';

const SERVER_URL = new URL('https://mcp.example.com/mcp');
const ISSUER = 'https://auth.example.com';

const urls = fc.constantFrom(
  'https://mcp.example.com/mcp',
  'https://auth.example.com/token',
  'http://127.0.0.1:8080/token',
  'http://localhost/token',
  'http://auth.example.com/token',
  'http://169.254.169.254/latest/meta-data/',
  'https://[fe80::1]/x',
  'http://[::ffff:169.254.169.254]/x',
  'https://[64:ff9b::169.254.169.254]/x',
  'https://10.0.0.8/token',
  'https://0.0.0.0/token',
  'https://localhost./token',
  'https://[::ffff:7f00:1]/token',
  'https://[fd00::1]/token',
  'file:///etc/passwd',
  'javascript:alert(1)',
  'https://user:SECRET@auth.example.com/',
  'https://auth.example.com/#SECRET',
  '/relative/SECRET',
  '',
  'https://auth.example.com/?q=SECRET',
);
/** Anything a field could hold: a plausible URL, text with a canary, or any JSON at all. */
const anyField = fc.oneof(
  { weight: 3, arbitrary: urls },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }).map((text) => `${text}SECRET`) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 1, arbitrary: fc.array(fc.oneof(urls, fc.jsonValue({ maxDepth: 1 })), { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.boolean() },
);

/** A document with each field absent, well-formed (mostly), or hostile (`anyField` or its own). */
function documentOf(
  fields: Record<string, { valid: fc.Arbitrary<unknown>; hostile?: fc.Arbitrary<unknown> }>,
): fc.Arbitrary<Record<string, unknown>> {
  const entries = Object.fromEntries(
    Object.entries(fields).map(([name, { valid, hostile }]) => [
      name,
      fc.oneof(
        { weight: 8, arbitrary: valid },
        { weight: 1, arbitrary: anyField },
        ...(hostile === undefined ? [] : [{ weight: 2, arbitrary: hostile }]),
      ),
    ]),
  );
  return fc
    .tuple(
      fc.record(entries, { requiredKeys: [] }),
      fc.dictionary(fc.constantFrom('__proto__', 'constructor', 'toString', 'x-extension'), anyField, {
        maxKeys: 2,
      }),
    )
    .map(([known, extra]) => JSON.parse(JSON.stringify({ ...extra, ...known })) as Record<string, unknown>);
}

const safeUrls = fc.constantFrom(
  'https://auth.example.com/token',
  'https://auth.example.com/a/b?c=d',
  'http://127.0.0.1:8080/token',
  'http://localhost/token',
);
const stringList = fc.array(fc.constantFrom('mcp', 'read', 'S256', 'plain', 'code', 'ES256', ''), {
  maxLength: 3,
});

const protectedResourceDocument = documentOf({
  resource: {
    valid: fc.constantFrom(
      'https://mcp.example.com/mcp',
      'https://mcp.example.com',
      'https://mcp.example.com/',
      'https://mcp.example.com/mcp/',
      'https://MCP.example.com/mcp',
    ),
    hostile: fc.constantFrom(
      'https://mcp.example.com/mcp2',
      'https://evil.example.com/mcp',
      'https://mcp.example.com/mcp#SECRET',
      'https://mcp.example.com/mcp?x=SECRET',
      'http://mcp.example.com/mcp',
      'https://mcp.example.com:444/mcp',
    ),
  },
  authorization_servers: { valid: fc.array(urls, { maxLength: 3 }) },
  scopes_supported: { valid: stringList },
  bearer_methods_supported: { valid: stringList },
  resource_name: { valid: fc.string({ maxLength: 10 }) },
  jwks_uri: { valid: safeUrls.filter((url) => url.startsWith('https:')), hostile: urls },
  dpop_bound_access_tokens_required: { valid: fc.boolean() },
});

const endpoint = { valid: safeUrls, hostile: urls };
const authorizationServerDocument = documentOf({
  issuer: {
    valid: fc.constant(ISSUER),
    hostile: fc.constantFrom(`${ISSUER}/`, 'https://evil.example.com', 'HTTPS://auth.example.com', ''),
  },
  authorization_endpoint: endpoint,
  token_endpoint: endpoint,
  registration_endpoint: endpoint,
  revocation_endpoint: endpoint,
  jwks_uri: endpoint,
  scopes_supported: { valid: stringList },
  response_types_supported: { valid: stringList },
  grant_types_supported: { valid: stringList },
  code_challenge_methods_supported: { valid: stringList },
  token_endpoint_auth_methods_supported: { valid: stringList },
  authorization_response_iss_parameter_supported: { valid: fc.boolean() },
  client_id_metadata_document_supported: { valid: fc.boolean() },
});

const PRM_CODES = new Set(['metadata_invalid', 'resource_mismatch', 'unsafe_url']);
const AS_CODES = new Set(['metadata_invalid', 'issuer_mismatch', 'unsafe_url']);

function isStringList(value: unknown): boolean {
  return value === undefined || (Array.isArray(value) && value.every((item) => typeof item === 'string'));
}

const STRING_ARRAY_FIELDS = ['authorization_servers', 'scopes_supported', 'bearer_methods_supported'];
const AS_URL_FIELDS = [
  'authorization_endpoint',
  'token_endpoint',
  'registration_endpoint',
  'revocation_endpoint',
  'jwks_uri',
];

const { typedOutcome, expectBothOutcomes } = outcomeTally();

describe('validateProtectedResourceMetadata properties', () => {
  it('accepts only documents naming this server, with well-typed fields; throws only typed errors', () => {
    fc.assert(
      fc.property(protectedResourceDocument, (document) => {
        const outcome = typedOutcome(() => validateProtectedResourceMetadata(document, SERVER_URL));
        if (outcome instanceof OAuthClientError) {
          check(PRM_CODES.has(outcome.code), `unexpected code ${outcome.code}`);
          return;
        }
        check(outcome.resource === document.resource, 'resource is returned as given');
        const resource = new URL(outcome.resource);
        check(resource.origin === SERVER_URL.origin && resource.hash === '', 'resource names this server');
        for (const field of STRING_ARRAY_FIELDS)
          check(isStringList(outcome[field]), `${field} is a string list`);
        if (outcome.jwks_uri !== undefined) {
          const url = assertSafeUrl(outcome.jwks_uri, { what: 'jwks_uri', allowLoopbackHttp: false });
          check(networkClassOf(url) === 'public', 'jwks_uri of a public server stays public');
        }
      }),
      { numRuns: 10_000 },
    );
    expectBothOutcomes(10_000);
  });

  it('never throws anything but typed errors on arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 })), (document) => {
        typedOutcome(() => validateProtectedResourceMetadata(document, SERVER_URL));
      }),
      { numRuns: 4_000 },
    );
  });
});

describe('validateAuthorizationServerMetadata properties', () => {
  it('accepts only the expected issuer with safe endpoints and well-typed fields; throws only typed errors', () => {
    fc.assert(
      fc.property(
        authorizationServerDocument,
        fc.boolean(),
        fc.boolean(),
        (document, allowLoopbackHttp, allowPrivateNetworks) => {
          const outcome = typedOutcome(() =>
            validateAuthorizationServerMetadata(document, {
              expectedIssuer: ISSUER,
              allowLoopbackHttp,
              allowPrivateNetworks,
            }),
          );
          if (outcome instanceof OAuthClientError) {
            check(AS_CODES.has(outcome.code), `unexpected code ${outcome.code}`);
            return;
          }
          check(outcome.issuer === ISSUER, 'issuer is the expected one');
          for (const field of AS_URL_FIELDS) {
            const value = outcome[field];
            if (value === undefined) continue;
            const url = assertSafeUrl(value, { what: field, allowLoopbackHttp });
            // The issuer is public: without the application's permission, so is every endpoint.
            check(allowPrivateNetworks || networkClassOf(url) === 'public', `${field} stays public`);
          }
          check(isStringList(outcome.code_challenge_methods_supported), 'PKCE methods are a string list');
          const iss = outcome.authorization_response_iss_parameter_supported;
          check(iss === undefined || typeof iss === 'boolean', 'iss support is a boolean');
        },
      ),
      { numRuns: 10_000 },
    );
    expectBothOutcomes(10_000);
  });

  it('never throws anything but typed errors on arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 })), (document) => {
        typedOutcome(() =>
          validateAuthorizationServerMetadata(document, { expectedIssuer: ISSUER, allowLoopbackHttp: true }),
        );
      }),
      { numRuns: 4_000 },
    );
  });
});

describe('parseJsonObject properties', () => {
  const contentTypes = fc.option(
    fc.oneof(
      fc.constantFrom(
        'application/json',
        'application/json; charset=utf-8',
        'application/problem+json',
        'APPLICATION/JSON',
        'text/html',
        'text/plain; SECRET',
        '',
        ';',
      ),
      fc.string({ maxLength: 20 }),
    ),
    { nil: undefined },
  );
  const bodies = fc.oneof(
    fc
      .dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }))
      .map((value) => JSON.stringify(value)),
    fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)),
    fc.string({ maxLength: 40 }).map((text) => `{"SECRET":${text}`),
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 20 }),
  );

  it('returns a plain object for JSON object bodies served as JSON, and a typed error otherwise', () => {
    fc.assert(
      fc.property(contentTypes, bodies, fc.integer({ min: 100, max: 599 }), (contentType, body, status) => {
        const headers: Record<string, string> =
          contentType === undefined ? {} : { 'content-type': contentType };
        const outcome = typedOutcome(() => parseJsonObject({ status, headers, body }, 'document'));
        if (outcome instanceof OAuthClientError) {
          check(outcome.code === 'metadata_invalid', `unexpected code ${outcome.code}`);
          return;
        }
        check(typeof outcome === 'object' && outcome !== null && !Array.isArray(outcome), 'a plain object');
      }),
      { numRuns: 8_000 },
    );
    expectBothOutcomes(8_000);
  });
});
