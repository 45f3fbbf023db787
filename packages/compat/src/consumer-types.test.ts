/**
 * The packed packages' declarations, compiled by TypeScript in the projects users have (see
 * ../consumers): Node without `lib: dom`, CommonJS with `module: node16` requiring the ky and got
 * adapters, and a browser bundler project — all with `skipLibCheck: false`, so that every
 * declaration file they read is checked.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { installPacked, moduleFolder, PACKAGES_DIRECTORY, removePacks } from './packed.js';

const CONSUMERS = join(PACKAGES_DIRECTORY, 'compat', 'consumers');
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');

let project: string | undefined;
afterEach(() => {
  if (project !== undefined) rmSync(project, { recursive: true, force: true });
  project = undefined;
});
afterAll(removePacks);

/** `tsc -p` in the consumer project; its diagnostics, or '' when it compiles. */
function compile(consumer: string): string {
  project = installPacked({
    // The newest versions, as the adapters' own tests use them.
    ky: moduleFolder('ky', 'ky'),
    got: moduleFolder('got', 'got'),
    axios: moduleFolder('axios', 'axios'),
    redis: moduleFolder('redis', 'redis'),
    '@types/node': moduleFolder('@types/node'),
  });
  cpSync(join(CONSUMERS, consumer), project, { recursive: true });
  try {
    execFileSync(process.execPath, [TSC, '-p', project], { encoding: 'utf8', stdio: 'pipe' });
    return '';
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    return `${stdout ?? ''}${stderr ?? ''}`.replaceAll(project, '<project>') || String(error);
  }
}

describe('the packed declarations in consumer projects', () => {
  it.each(readdirSync(CONSUMERS))('%s compiles with skipLibCheck: false', (consumer) => {
    expect(compile(consumer)).toBe('');
  });
});
