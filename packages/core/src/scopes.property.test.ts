import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatScope, includesAllScopes, parseScope, selectScopes, unionScopes } from './scopes.js';

const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
const scopeToken = fc.stringMatching(/^[\x21\x23-\x5B\x5D-\x7E]{1,12}$/);
const scopeList = fc.array(fc.oneof(scopeToken, fc.constantFrom('read', 'write', 'offline_access')), {
  maxLength: 8,
});
const uniqueScopeList = fc.uniqueArray(scopeToken, { maxLength: 8 });

function asSet(values: readonly string[]): Set<string> {
  return new Set(values);
}

describe('scope properties', () => {
  it('union is idempotent and commutative as a set, contains both inputs, and has no duplicates', () => {
    fc.assert(
      fc.property(scopeList, scopeList, (left, right) => {
        const union = unionScopes(left, right);
        expect(new Set(union).size).toBe(union.length);
        expect(asSet(union)).toEqual(asSet(unionScopes(right, left)));
        expect(unionScopes(union, union)).toEqual(union);
        expect(unionScopes(union, left)).toEqual(union);
        expect(includesAllScopes(union, left)).toBe(true);
        expect(includesAllScopes(union, right)).toBe(true);
        expect(asSet(union)).toEqual(new Set([...left, ...right]));
      }),
      { numRuns: 5_000 },
    );
  });

  it('parse ∘ format is the identity on lists of unique valid tokens', () => {
    fc.assert(
      fc.property(uniqueScopeList, (scopes) => {
        const formatted = formatScope(scopes);
        if (scopes.length === 0) {
          expect(formatted).toBeUndefined();
        } else {
          expect(parseScope(formatted)).toEqual(scopes);
        }
      }),
      { numRuns: 5_000 },
    );
  });

  it('format ∘ parse normalises any string: valid, unique tokens joined by single spaces', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (value) => {
        const parsed = parseScope(value);
        for (const scope of parsed) expect(scope).toMatch(SCOPE_TOKEN);
        expect(new Set(parsed).size).toBe(parsed.length);
        const formatted = formatScope(parsed);
        expect(formatted === undefined ? [] : parseScope(formatted)).toEqual(parsed);
        if (formatted !== undefined) expect(formatted).toBe(parsed.join(' '));
      }),
      { numRuns: 4_000 },
    );
  });

  it('parseScope never throws, whatever it is given', () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        expect(Array.isArray(parseScope(value))).toBe(true);
      }),
      { numRuns: 3_000 },
    );
  });

  it('selectScopes returns unique valid tokens, with offline_access only when allowed', () => {
    fc.assert(
      fc.property(
        fc.record(
          {
            explicit: scopeList,
            challenge: scopeList,
            resourceMetadataScopes: scopeList,
            authorizationServerScopes: scopeList,
            fallbackToAuthorizationServer: fc.boolean(),
            defaults: scopeList,
          },
          { requiredKeys: [] },
        ),
        fc.boolean(),
        (partial, offlineAccess) => {
          const input = { ...partial, offlineAccess };
          const selected = selectScopes(input);
          expect(new Set(selected).size).toBe(selected.length);
          for (const scope of selected) expect(scope).toMatch(SCOPE_TOKEN);
          const asListsOffline = input.authorizationServerScopes?.includes('offline_access') ?? false;
          if (selected.includes('offline_access') && !asListsOffline) {
            // Only when a caller-named source (not the AS fallback) already held it.
            const named = unionScopes(
              input.explicit,
              input.challenge,
              input.resourceMetadataScopes,
              input.defaults,
            );
            expect(named).toContain('offline_access');
          }
          if (offlineAccess && asListsOffline && selected.length > 0)
            expect(selected).toContain('offline_access');
          if (selected.length === 1 && selected[0] === 'offline_access') {
            // Never added on its own: some source named exactly it.
            const named = unionScopes(
              input.explicit,
              input.challenge,
              input.resourceMetadataScopes,
              input.fallbackToAuthorizationServer ? input.authorizationServerScopes : undefined,
              input.defaults,
            );
            expect(named).toContain('offline_access');
          }
        },
      ),
      { numRuns: 4_000 },
    );
  });
});
