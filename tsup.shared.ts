import { defineConfig } from 'tsup';

/**
 * The build every published package shares: ESM + CJS + declarations. `entry` maps output names
 * to sources (default: `index` from `src/index.ts`); each becomes a subpath of the package.
 */
export function packageBuild(
  platform: 'neutral' | 'node' = 'neutral',
  entry: Record<string, string> = { index: 'src/index.ts' },
) {
  return defineConfig({
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    sourcemap: true,
    target: 'es2022',
    platform,
  });
}
