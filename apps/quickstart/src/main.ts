/**
 * `pnpm example`: runs the quick start against the demo server and exits non-zero on any failure.
 * The walk itself is in ./quickstart.ts; the protocol work is all in `@mcp-oauth/core`.
 */
import { isOAuthClientError } from '@mcp-oauth/core';
import { runQuickstart } from './quickstart.js';

try {
  await runQuickstart();
  console.log('\nDone.');
} catch (error) {
  // Engine errors carry a stable code and fixed text: safe to print, never a token or a URL query.
  const reason = isOAuthClientError(error) ? `${error.code}: ${error.message}` : String(error);
  console.error(`\nThe quick start failed — ${reason}`);
  process.exitCode = 1;
}
