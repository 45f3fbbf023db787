// packages/core/README.md's first two ts blocks, verbatim: a session, and requests sent through it.
// Typechecked with the sample; core-readme.test.ts keeps them equal to the README and runs them.
import { OAuthSession } from '@mcp-oauth/core';
import { createFetchHttpClient } from '@mcp-oauth/fetch';
import { createLoopbackAuthorizationHandler } from '@mcp-oauth/node';

const loopback = await createLoopbackAuthorizationHandler(); // opens the browser, waits on 127.0.0.1
const session = new OAuthSession({
  serverUrl: 'https://mcp.example.com/mcp',
  httpClient: createFetchHttpClient(), // any { send(request) → { status, headers, body } }
  client: { clientName: 'My MCP client', redirectUris: [loopback.redirectUri] },
  authorizationHandler: loopback.handler,
});

const mcpHeaders = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

async function callMcp(body: string): Promise<Response> {
  const request = await session.beginRequest({ method: 'POST', url: session.serverUrl });
  for (let step = request.first; ; ) {
    const headers = new Headers(mcpHeaders);
    for (const name of step.removeHeaders) headers.delete(name);
    for (const [name, value] of Object.entries(step.headers)) headers.set(name, value);
    const init = { method: step.method, headers, body: step.withBody ? body : null, redirect: step.redirect };
    const response = await fetch(step.url, init);
    const next = await request.respond({ status: response.status, headers: response.headers });
    if (next.type === 'done') return response;
    await response.body?.cancel();
    step = next;
  }
}

export { callMcp, loopback, session };
