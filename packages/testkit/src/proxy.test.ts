import { request } from 'node:http';
import { afterEach, expect, it } from 'vitest';
import { startTestProxy, type TestProxy } from './proxy.js';
import { startTestServer, type TestServer } from './server.js';

let proxy: TestProxy | undefined;
let server: TestServer | undefined;
afterEach(async () => {
  await proxy?.close();
  await server?.close();
  proxy = undefined;
  server = undefined;
});

/** One request through the proxy: absolute-form (`GET http://…`) or a CONNECT to `authority`. */
function viaProxy(options: { method: string; path: string }): Promise<number> {
  return new Promise((resolve, reject) => {
    const url = new URL(proxy!.url);
    const outgoing = request({ host: url.hostname, port: url.port, ...options });
    outgoing.on('response', (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    outgoing.on('connect', (response, socket) => {
      socket.destroy();
      resolve(response.statusCode ?? 0);
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

it('forwards absolute-form requests to 127.0.0.1 and notes them without their query', async () => {
  proxy = await startTestProxy();
  server = await startTestServer();
  expect(await viaProxy({ method: 'GET', path: server.url('/public/page?secret=1') })).toBe(200);
  expect(proxy.requests).toEqual(['GET /public/page']);
  expect(server.requestsTo('/public/page')).toHaveLength(1);
});

it('refuses to reach anything but 127.0.0.1', async () => {
  proxy = await startTestProxy();
  expect(await viaProxy({ method: 'CONNECT', path: '192.0.2.1:443' })).toBe(403);
  expect(await viaProxy({ method: 'GET', path: 'http://192.0.2.1/' })).toBe(403);
  expect(proxy.tunnels).toEqual([]);
  expect(proxy.requests).toEqual([]);
});
