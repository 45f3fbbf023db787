import { readFileSync } from 'node:fs';
import got16Latest, { type Got } from 'got';
import got140 from 'got-14.0.0';
import got14Latest from 'got-14-latest';
import got150 from 'got-15.0.0';
import got15Latest from 'got-15-latest';
import got160 from 'got-16.0.0';

/** The installed version behind an npm alias in this package's node_modules. */
function versionOf(alias: string): string {
  const manifest = new URL(`../../node_modules/${alias}/package.json`, import.meta.url);
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}

/**
 * Every got release the adapter is tested against (oldest and newest of each major), installed
 * side by side under npm aliases. The adapter is typed against the newest got; an older major's
 * `Got` is a different declaration of the same API, hence the casts.
 */
export const GOT_VERSIONS: ReadonlyArray<{ readonly name: string; readonly got: Got }> = [
  { name: `got ${versionOf('got-14.0.0')}`, got: got140 as unknown as Got },
  { name: `got ${versionOf('got-14-latest')}`, got: got14Latest as unknown as Got },
  { name: `got ${versionOf('got-15.0.0')}`, got: got150 as unknown as Got },
  { name: `got ${versionOf('got-15-latest')}`, got: got15Latest as unknown as Got },
  { name: `got ${versionOf('got-16.0.0')}`, got: got160 as unknown as Got },
  { name: `got ${versionOf('got')}`, got: got16Latest },
];
