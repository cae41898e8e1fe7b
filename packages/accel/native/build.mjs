// Builds the optional native engine (pnpm --filter @ofq/accel build:native) with node-gyp,
// offline: it uses the Node headers installed next to this node binary (Debian's `nodejs`
// ships them in /usr/include/node) instead of downloading them. Needs a C++ compiler and one
// BLAS: `apt-get install -y libdnnl-dev g++ make python3` (oneDNN, used when present) or
// `apt-get install -y libopenblas-dev` (OpenBLAS). Force one with OFQ_ACCEL_BLAS=onednn|openblas.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const prefix = dirname(dirname(process.execPath)); // /usr for /usr/bin/node

function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp, // set by npm and pnpm inside scripts
    join(prefix, 'lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
    join(prefix, 'lib/node_modules/pnpm/dist/node_modules/node-gyp/bin/node-gyp.js'),
  ];
  return candidates.find((c) => c && existsSync(c) && c.endsWith('.js'));
}

const blasArg = process.argv.find((a) => a.startsWith('--blas='))?.slice('--blas='.length);
// Default: oneDNN where its headers are installed (measured faster here, README), else OpenBLAS.
const blas = blasArg ?? process.env.OFQ_ACCEL_BLAS ?? (existsSync('/usr/include/oneapi/dnnl/dnnl.h') ? 'onednn' : 'openblas');
if (blas !== 'openblas' && blas !== 'onednn') {
  console.error(`build:native: unknown BLAS '${blas}'; expected openblas or onednn`);
  process.exit(1);
}
if (blas === 'openblas' && !existsSync('/usr/include/x86_64-linux-gnu/openblas-pthread/cblas.h') && !existsSync('/usr/include/cblas.h')) {
  console.warn('build:native: cblas.h not found; install OpenBLAS first: apt-get install -y libopenblas-dev');
}
if (blas === 'onednn' && !existsSync('/usr/include/oneapi/dnnl/dnnl.h')) {
  console.warn('build:native: oneapi/dnnl/dnnl.h not found; install oneDNN first: apt-get install -y libdnnl-dev');
}
const gyp = findNodeGyp();
if (!gyp) {
  console.error('build:native: node-gyp not found (it ships with npm: lib/node_modules/npm/node_modules/node-gyp)');
  process.exit(1);
}
const args = [gyp, 'rebuild', '--directory', here];
if (existsSync(join(prefix, 'include/node/node_api.h'))) args.push(`--nodedir=${prefix}`);
args.push('--', `-Dblas=${blas}`);
console.log(`build:native (${blas}): node ${args.join(' ')}`);
const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
process.exit(r.status ?? 1);
