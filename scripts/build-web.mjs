// Bundles the hosted pages' browser scripts (web/*.ts) with esbuild into web/dist/<name>.js: minified ES2020, no inline scripts needed.
// Usage: node scripts/build-web.mjs [web/other.ts ...] [--outdir DIR] [--format esm|iife]
//   web/passkeys.ts is always built; other entry points given on the command line are bundled the same way.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const DEFAULT_ENTRIES = ['web/passkeys.ts'];

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { outdir: { type: 'string', default: 'web/dist' }, format: { type: 'string', default: 'esm' } },
});
if (values.format !== 'esm' && values.format !== 'iife') {
  console.error(`--format must be esm or iife, not ${values.format}`);
  process.exit(2);
}
const entries = [...new Set([...DEFAULT_ENTRIES, ...positionals])];
for (const entry of entries) {
  if (!existsSync(entry) || !entry.endsWith('.ts')) {
    console.error(`Not a TypeScript entry point: ${entry}`);
    process.exit(2);
  }
}

const result = await build({
  entryPoints: entries,
  outdir: values.outdir,
  bundle: true,
  format: values.format,
  target: 'es2020',
  platform: 'browser',
  minify: true,
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});
for (const [file, output] of Object.entries(result.metafile.outputs)) {
  console.log(`${basename(file)}  ${(output.bytes / 1024).toFixed(1)} KiB  -> ${resolve(file)}`);
}
