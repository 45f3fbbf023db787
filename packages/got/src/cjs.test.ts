import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const built = fileURLToPath(new URL('../dist/index.cjs', import.meta.url));

// got is ESM only. The CommonJS build must not require it: it loads got only when
// createGotHttpClient is given no instance, with import(). Node 20 before 20.19 cannot
// require an ES module at all; later versions can be made to refuse as it did.
const REFUSE_ESM = process.allowedNodeEnvironmentFlags.has('--no-experimental-require-module')
  ? ['--no-experimental-require-module']
  : [];

it('loads from CommonJS without requiring got, and works with a got instance from import()', async () => {
  expect(existsSync(built), 'dist/index.cjs is missing: build the package first').toBe(true);
  const script = `
    const { withOAuth, createGotHttpClient } = require(${JSON.stringify(built)});
    import('got').then(({ default: got }) => {
      const mcp = withOAuth(got, { serverUrl: 'http://127.0.0.1:9/mcp', authorizationHandler: async () => '' });
      console.log(typeof mcp.post, mcp.oauthSession.constructor.name, typeof createGotHttpClient().send);
    });`;
  const { stdout } = await promisify(execFile)(process.execPath, [...REFUSE_ESM, '-e', script], {
    cwd: packageDir,
  });
  expect(stdout.trim()).toBe('function OAuthSession function');
});
