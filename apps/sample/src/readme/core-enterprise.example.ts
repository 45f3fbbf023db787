// packages/core/README.md's ID-JAG block, verbatim. Typechecked with the sample; core-readme.test.ts
// keeps it equal to the README; apps/conformance-client/src/readme-enterprise.test.ts runs it against
// the conformance suite's IdP. The declarations are what the README leaves to the reader.
import type { OAuthHttpClient } from '@mcp-oauth/core';

declare const httpClient: OAuthHttpClient;
declare const idpSecret: string;
declare const currentUser: { idToken: string };
declare const clientId: string;
declare const clientSecret: string;

import { OAuthSession } from '@mcp-oauth/core';
import { createIdJagAssertion } from '@mcp-oauth/core/enterprise';

const assertion = createIdJagAssertion({
  httpClient,
  identityProvider: { issuer: 'https://acme.idp.example' }, // or { tokenEndpoint }
  client: { clientId: 'idp-client-id', clientSecret: idpSecret }, // this app at the IdP
  idToken: () => currentUser.idToken, // kept from the SSO login
  scopes: ['chat.read'], // optional `scope` of the exchange
});
const session = new OAuthSession({
  serverUrl: 'https://mcp.chat.example/mcp',
  httpClient,
  grant: { type: 'jwt_bearer', assertion },
  client: { preRegistered: [{ issuer: 'https://auth.chat.example', clientId, clientSecret }] },
});

export { session };
