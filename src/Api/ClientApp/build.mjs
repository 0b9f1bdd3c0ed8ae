// Bundles the dashboard (plain ES modules + uPlot + fetch-event-source) into one script and one stylesheet,
// minified, with no network access at run time. Usage: node build.mjs <output directory>
import { build } from 'esbuild';
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';

const out = process.argv[2] ?? 'dist';
await mkdir(out, { recursive: true });
await build({
  entryPoints: { app: 'src/main.js' },
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  outdir: out,
  legalComments: 'linked',
  logLevel: 'warning',
});
await copyFile('src/index.html', path.join(out, 'index.html'));
