import { defineConfig } from 'tsup';

/** The `mcp-oauth` executable: one ESM file for Node, its dependencies imported at run time. */
export default defineConfig({
  entry: { cli: 'src/cli.ts' },
  format: ['esm'],
  dts: false,
  clean: true,
  sourcemap: false,
  target: 'node20',
  platform: 'node',
  banner: { js: '#!/usr/bin/env node' },
});
