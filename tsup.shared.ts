import { defineConfig } from 'tsup';

/** The build every published package shares: ESM + CJS + declarations from `src/index.ts`. */
export function packageBuild(platform: 'neutral' | 'node' = 'neutral') {
  return defineConfig({
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    sourcemap: true,
    target: 'es2022',
    platform,
  });
}
