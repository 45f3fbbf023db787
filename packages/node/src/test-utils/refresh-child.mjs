/**
 * One process of the two-process refresh test. Argument: the store directory and the MCP server
 * URL. It loads the session from the file stores, reports `ready`, waits for `go`, asks for an
 * access token and reports what it got.
 */
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);

const { OAuthSession } = await import('@mcp-oauth/core');
const { createFileStores } = await import('../file-store.ts');

const [directory, serverUrl] = process.argv.slice(2);

/** The smallest OAuthHttpClient over fetch: exactly the engine's request, no redirects followed. */
const httpClient = {
  async send(request) {
    const response = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      redirect: 'manual',
      signal: request.signal,
    });
    const headers = {};
    response.headers.forEach((value, name) => {
      headers[name] = value;
    });
    return { status: response.status, headers, body: await response.text() };
  },
};

const session = new OAuthSession({ serverUrl, httpClient, stores: createFileStores({ directory }) });

process.once('message', async () => {
  try {
    const accessToken = await session.getAccessToken();
    process.send({ type: 'done', accessToken });
  } catch (error) {
    process.send({ type: 'failed', code: error?.code ?? 'unexpected', message: String(error?.message) });
  }
  process.disconnect();
});
process.send({ type: 'ready' });
