import fc from 'fast-check';
import { describe, it } from 'vitest';
import { OAuthClientError } from '../errors.js';
import { check, field, outcomeTally, responsesOf } from '../test-utils/property.js';
import { assertSafeUrl } from '../url.js';
import { parseRegistrationResponse } from './dynamic-registration.js';

const NOW = 1_700_000_000_000;
const ISSUER = 'https://auth.example.com';
const METHODS = new Set(['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt']);

const REDIRECT_URIS = ['http://127.0.0.1:33418/callback', 'https://app.example.com/cb'];
const method = fc.constantFrom('none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt');

const requested = fc.record(
  {
    token_endpoint_auth_method: method,
    redirect_uris: fc.subarray(REDIRECT_URIS),
    jwks: fc.constant({ keys: [{ kty: 'EC' }] }),
  },
  { requiredKeys: ['redirect_uris'] },
);

const registrationDocument = fc
  .record(
    {
      client_id: field(fc.string({ minLength: 1, maxLength: 10 })),
      client_secret: field(fc.string({ minLength: 1, maxLength: 10 }).map((text) => `SECRET-${text}`)),
      client_secret_expires_at: field(
        fc.oneof(fc.constant(0), fc.integer({ min: NOW / 1000 - 100, max: NOW / 1000 + 10 ** 6 })),
      ),
      client_id_issued_at: field(fc.nat()),
      registration_access_token: field(fc.constant('SECRET-registration')),
      registration_client_uri: field(
        fc.constantFrom(
          'https://auth.example.com/register/1',
          'http://auth.example.com/register/1',
          'http://169.254.169.254/x',
          'https://auth.example.com/register/1#SECRET',
        ),
      ),
      token_endpoint_auth_method: field(fc.oneof(method, fc.constant('tls_client_auth'))),
      redirect_uris: field(fc.subarray([...REDIRECT_URIS, 'https://evil.example.com/cb'])),
    },
    { requiredKeys: [] },
  )
  .map((document) => JSON.parse(JSON.stringify(document)) as Record<string, unknown>);

const registrationResponse = responsesOf(
  registrationDocument,
  fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(201, 200) },
    { weight: 2, arbitrary: fc.constantFrom(202, 204, 302, 400, 401, 500) },
  ),
  fc.oneof(
    { weight: 8, arbitrary: fc.constant('application/json') },
    { weight: 1, arbitrary: fc.constantFrom(undefined, 'text/html') },
  ),
);

const { typedOutcome, expectBothOutcomes } = outcomeTally();

describe('parseRegistrationResponse properties', () => {
  it('returns a usable client bound to the issuer, or registration_failed', () => {
    fc.assert(
      fc.property(registrationResponse, requested, ({ response, document }, request) => {
        const outcome = typedOutcome(() =>
          parseRegistrationResponse(response, { issuer: ISSUER, requested: request, now: NOW }),
        );
        if (outcome instanceof OAuthClientError) {
          check(outcome.code === 'registration_failed', `unexpected code ${outcome.code}`);
          return;
        }
        check(response.status === 200 || response.status === 201, 'success only for 200 and 201');
        check(outcome.issuer === ISSUER && outcome.source === 'dynamic', 'bound to the issuer');
        check(outcome.clientId === document.client_id && outcome.clientId.length > 0, 'the client id');
        check(METHODS.has(outcome.tokenEndpointAuthMethod), 'a supported method');
        if (outcome.tokenEndpointAuthMethod.startsWith('client_secret_')) {
          check(typeof outcome.clientSecret === 'string' && outcome.clientSecret.length > 0, 'a secret');
        }
        if (outcome.tokenEndpointAuthMethod === 'private_key_jwt') {
          check(request.jwks !== undefined, 'private_key_jwt only with a registered key');
        }
        const expiresAt = outcome.clientSecretExpiresAt;
        check(
          expiresAt === undefined || expiresAt === 0 || expiresAt > NOW / 1000,
          'the secret has not expired',
        );
        check(
          JSON.stringify(outcome.redirectUris) === JSON.stringify(request.redirect_uris),
          'the redirect URIs are the ones sent',
        );
        if (Array.isArray(document.redirect_uris)) {
          check(
            request.redirect_uris.every((uri) => (document.redirect_uris as unknown[]).includes(uri)),
            'an echoed list holds every URI sent',
          );
        }
        if (outcome.registrationClientUri !== undefined) {
          assertSafeUrl(outcome.registrationClientUri, {
            what: 'registration_client_uri',
            allowLoopbackHttp: false,
          });
        }
      }),
      { numRuns: 12_000 },
    );
    expectBothOutcomes(12_000);
  });

  it('never throws anything but typed errors on arbitrary bodies, statuses and requests', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 100, max: 599 }),
        fc.oneof(
          fc.string({ maxLength: 60 }),
          fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)),
        ),
        fc.dictionary(
          fc.constantFrom('token_endpoint_auth_method', 'redirect_uris', 'jwks'),
          fc.jsonValue({ maxDepth: 2 }),
        ),
        (status, body, request) => {
          typedOutcome(() =>
            parseRegistrationResponse(
              { status, headers: { 'content-type': 'application/json' }, body },
              { issuer: ISSUER, requested: request, now: NOW },
            ),
          );
        },
      ),
      { numRuns: 4_000 },
    );
  });
});
