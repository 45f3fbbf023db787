/**
 * withOAuth in a real browser: Debian chromium, driven by playwright-core, loads a page from the
 * test server's origin that bundles axios's browser build (whose default adapter there is XHR),
 * this package and core. A same-origin redirect out of the resource must not carry a credential.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startTestServer, type TestServer } from '@mcp-oauth/testkit';
import { build } from 'esbuild';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const CHROMIUM = '/usr/bin/chromium';

/** The page's script: an axios instance with OAuth for `serverUrl`, and a way to send requests. */
const ENTRY = `
import axios from 'axios';
import { dpop } from '@mcp-oauth/core/dpop';
import { withOAuth } from './index.ts';

let mcp;
window.start = (serverUrl, useDpop) => {
  mcp = withOAuth(axios.create(), {
    serverUrl,
    client: { clientName: 'axios in a browser', redirectUris: ['http://127.0.0.1/callback'] },
    authorizationHandler: ({ authorizationUrl }) => window.approve(authorizationUrl),
    ...(useDpop ? { dpop: dpop() } : {}),
  });
};
window.send = async (method, url, data) => {
  try {
    const response = await mcp.request({ method, url, data, responseType: 'text' });
    return { status: response.status };
  } catch (error) {
    return { status: error.response?.status, error: String(error.code ?? error.message) };
  }
};
`;

let script: string;
let browser: Browser;

beforeAll(async () => {
  // Not skipped when chromium is missing: the browser test is part of the suite.
  expect(existsSync(CHROMIUM), `${CHROMIUM} is required (apt-get install chromium)`).toBe(true);
  const bundle = await build({
    stdin: { contents: ENTRY, resolveDir: fileURLToPath(new URL('.', import.meta.url)), loader: 'ts' },
    bundle: true,
    platform: 'browser',
    format: 'iife',
    write: false,
    logLevel: 'silent',
  });
  script = bundle.outputFiles[0]?.text ?? '';
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** The test server, and a page on its origin (the MCP server's) running the script above. */
async function open(useDpop: boolean): Promise<{ server: TestServer; page: Page }> {
  const server = await startTestServer({ dpop: useDpop });
  cleanups.push(() => server.close());
  server.respondWith('/public/page.html', {
    status: 200,
    headers: { 'content-type': 'text/html' },
    body: '<!doctype html><script src="/public/app.js"></script>',
  });
  server.respondWith('/public/app.js', {
    status: 200,
    headers: { 'content-type': 'text/javascript' },
    body: script,
  });
  const page = await browser.newPage();
  cleanups.push(() => page.close());
  await page.exposeFunction('approve', (url: string) => server.approve(url));
  await page.goto(server.url('/public/page.html'));
  await page.evaluate(([url, dpop]) => (window as unknown as Api).start(url, dpop), [
    server.mcpUrl,
    useDpop,
  ] as const);
  return { server, page };
}

interface Api {
  start(serverUrl: string, useDpop: boolean): void;
  send(method: string, url: string, data?: unknown): Promise<{ status?: number; error?: string }>;
}

function send(page: Page, method: string, url: string, data?: unknown) {
  return page.evaluate(([m, u, d]) => (window as unknown as Api).send(m, u, d), [method, url, data] as const);
}

describe('axios in chromium', () => {
  for (const useDpop of [false, true]) {
    for (const status of [302, 307]) {
      it(`a ${status} from /mcp/x to /outside/x on the same origin gets no ${useDpop ? 'DPoP token or proof' : 'token'}`, async () => {
        const { server, page } = await open(useDpop);
        expect(await send(page, 'GET', '/mcp')).toEqual({ status: 200 });
        server.redirectTo('/mcp/x', server.url('/outside/x'), status);

        expect(await send(page, 'POST', '/mcp/x', { a: 1 })).toEqual({ status: 200 });

        const [first] = server.requestsTo('/mcp/x');
        expect(first?.headers.authorization).toMatch(useDpop ? /^DPoP / : /^Bearer /);
        const outside = server.requestsTo('/outside/x');
        expect(outside.length).toBeGreaterThan(0);
        for (const record of outside) {
          expect(record.headers.authorization).toBeUndefined();
          expect(record.headers.dpop).toBeUndefined();
        }
      });
    }
  }

  it('authorizes on the first 401 and hands a final 401 back as an AxiosError', async () => {
    const { server, page } = await open(false);
    expect(await send(page, 'GET', '/mcp/tools')).toEqual({ status: 200 });
    expect(server.requestsTo('/mcp/tools').map((record) => record.status)).toEqual([401, 200]);

    server.alwaysUnauthorized('/mcp/locked');
    expect(await send(page, 'GET', '/mcp/locked')).toEqual({ status: 401, error: 'ERR_BAD_REQUEST' });
    expect(server.count('/mcp/locked')).toBe(2);
  });
});
