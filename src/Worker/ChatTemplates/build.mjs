// Bundles @huggingface/jinja with entry.js into one classic script (no modules) for Jint.
// Usage: node build.mjs <output file>
import { build } from 'esbuild';

await build({
  entryPoints: ['entry.js'],
  bundle: true,
  minify: true,
  format: 'iife',
  target: 'es2020',
  outfile: process.argv[2] ?? 'dist/jinja.js',
  legalComments: 'eof',
  logLevel: 'warning',
});
