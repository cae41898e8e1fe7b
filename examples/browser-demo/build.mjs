// Bundles the demo page with esbuild into dist/ (page, bundle, packed model, strip, tfjs wasm binaries).
import { build as esbuild } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export async function build(out = join(here, 'dist')) {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(join(out, 'wasm'), { recursive: true });
  await esbuild({
    entryPoints: [join(here, 'src/main.ts')],
    outfile: join(out, 'main.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['@ofq/source'],
    external: ['node:*'],
    minify: true,
    logLevel: 'warning',
  });
  copyFileSync(join(here, 'index.html'), join(out, 'index.html'));
  for (const f of readdirSync(join(here, 'public'))) copyFileSync(join(here, 'public', f), join(out, f));
  const wasmDir = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  for (const f of readdirSync(join(wasmDir, 'dist')).filter((f) => f.endsWith('.wasm'))) copyFileSync(join(wasmDir, 'dist', f), join(out, 'wasm', f));
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(`built ${await build()}`);
