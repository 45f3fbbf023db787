// packages/core/README.md's device flow block (a "How do I…?" answer), verbatim. Typechecked with
// the sample; core-readme.test.ts keeps it equal to the README and runs it.
import { type OAuthHttpClient, OAuthSession } from '@mcp-oauth/core';
import { deviceCode } from '@mcp-oauth/core/device';

declare const httpClient: OAuthHttpClient;

const session = new OAuthSession({
  serverUrl: 'https://mcp.example.com/mcp',
  httpClient,
  grant: deviceCode({
    onUserCode: ({ verificationUri, userCode }) =>
      console.error(`Open ${verificationUri} and enter ${userCode}`),
  }),
});
await session.authorize(); // resolves once the user has confirmed the code

export { session };
