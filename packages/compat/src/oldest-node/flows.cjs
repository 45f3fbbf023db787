'use strict';
// What the published packages must do under the oldest Node version they claim (run by
// ../oldest-node.test.ts with that Node's binary). smoke.cjs loads them with require, smoke.mjs
// with import, and both hand them here. Plain JavaScript: nothing may stand between the
// packages' dist files and that Node, so neither a loader nor a build step is used.
//
// Against one testkit server per adapter (started by the test, URLs in SMOKE_SERVERS), each
// adapter makes one MCP request that meets a 401 and goes through discovery, registration,
// authorization with PKCE (the loopback callback server of @mcp-oauth/node, with a "browser" that
// follows the authorization server's redirect), the token request and the retry; then, once the
// test has revoked the access token, a second request that goes through a refresh.

const PAYLOAD = { jsonrpc: '2.0', id: 1, method: 'tools/list' };

/** The browser: GET the authorization URL (the test server approves at once), then follow its redirect. */
async function approve(authorizationUrl) {
  const response = await fetch(authorizationUrl, { redirect: 'manual' });
  const location = response.headers.get('location');
  if (response.status !== 302 || location === null) throw new Error(`/authorize answered ${response.status}`);
  await (await fetch(location)).text();
}

/** Asks the test to act on the servers, and waits until it has. */
function askTest(message) {
  return new Promise((resolve) => {
    process.once('message', resolve);
    process.send(message);
  });
}

/** What the MCP server echoed, without the token itself. */
function summary(echo) {
  return {
    method: echo.method,
    path: echo.path,
    scheme: (echo.headers.authorization ?? '').split(' ')[0],
    body: Buffer.from(echo.body, 'base64').toString('utf8'),
  };
}

/**
 * Per adapter: the session's `httpClient`, and `authorize(session)` giving a function that POSTs
 * PAYLOAD to the MCP server through the adapter and resolves to the echoed request.
 */
function adapters(packages, libraries) {
  return {
    fetch: async (mcpUrl) => ({
      httpClient: packages.fetch.createFetchHttpClient(),
      authorize: (session) => {
        const authorizedFetch = packages.fetch.withOAuth(fetch, session);
        return async () => {
          const response = await authorizedFetch(mcpUrl, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(PAYLOAD),
          });
          if (!response.ok) throw new Error(`fetch: ${response.status}`);
          return response.json();
        };
      },
    }),
    ky: async (mcpUrl) => {
      const { default: ky } = await import('ky');
      return {
        httpClient: packages.ky.createKyHttpClient(), // ky's default instance, imported on first use
        authorize: (session) => {
          const api = packages.ky.withOAuth(ky, session);
          return () => api.post(mcpUrl, { json: PAYLOAD }).json();
        },
      };
    },
    axios: async (mcpUrl) => {
      const instance = libraries.axios.create();
      return {
        httpClient: packages.axios.createAxiosHttpClient(instance),
        authorize: (session) => {
          packages.axios.withOAuth(instance, session);
          return async () => (await instance.post(mcpUrl, PAYLOAD)).data;
        },
      };
    },
    got: async (mcpUrl) => {
      const { default: got } = await import('got');
      return {
        httpClient: packages.got.createGotHttpClient(), // got's default instance, imported on first use
        authorize: (session) => {
          const api = packages.got.withOAuth(got, session);
          return () => api.post(mcpUrl, { json: PAYLOAD }).json();
        },
      };
    },
  };
}

exports.run = async function run(packages, libraries) {
  // @mcp-oauth/redis needs a Redis server to do anything: here it only has to load.
  if (typeof packages.redis.createRedisStores !== 'function')
    throw new Error('@mcp-oauth/redis did not load');
  const servers = JSON.parse(process.env.SMOKE_SERVERS ?? '{}');
  // A callback that never comes fails the run with `timeout` instead of hanging it.
  const loopback = await packages.node.createLoopbackAuthorizationHandler({
    open: approve,
    timeoutMs: 30_000,
  });
  const results = [];
  try {
    for (const [name, setUp] of Object.entries(adapters(packages, libraries))) {
      const mcpUrl = servers[name];
      if (mcpUrl === undefined) throw new Error(`no server for ${name}`);
      const { httpClient, authorize } = await setUp(mcpUrl);
      const session = new packages.core.OAuthSession({
        serverUrl: mcpUrl,
        httpClient,
        client: { clientName: `oldest-node ${name}`, redirectUris: [loopback.redirectUri] },
        authorizationHandler: loopback.handler,
      });
      const call = authorize(session);
      const first = summary(await call());
      await askTest({ revokeAccessTokens: name });
      const second = summary(await call());
      results.push({ adapter: name, first, second });
    }
  } finally {
    await loopback.close();
  }
  process.stdout.write(`${JSON.stringify({ node: process.version, results })}\n`);
  process.disconnect();
};
