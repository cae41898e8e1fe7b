// Builds the optional native engine (pnpm --filter @ofq/accel build:native) with node-gyp,
// offline: it uses the Node headers installed next to this node binary (Debian's `nodejs`
// ships them in /usr/include/node) instead of downloading them. Needs `libopenblas-dev` and a
// C++ compiler (`apt-get install -y libopenblas-dev g++ make python3`).
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

if (!existsSync('/usr/include/x86_64-linux-gnu/openblas-pthread/cblas.h') && !existsSync('/usr/include/cblas.h')) {
  console.warn('build:native: cblas.h not found; install OpenBLAS first: apt-get install -y libopenblas-dev');
}
const gyp = findNodeGyp();
if (!gyp) {
  console.error('build:native: node-gyp not found (it ships with npm: lib/node_modules/npm/node_modules/node-gyp)');
  process.exit(1);
}
const args = [gyp, 'rebuild', '--directory', here];
if (existsSync(join(prefix, 'include/node/node_api.h'))) args.push(`--nodedir=${prefix}`);
console.log(`build:native: node ${args.join(' ')}`);
const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
process.exit(r.status ?? 1);
