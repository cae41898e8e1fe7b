// One-off helper kept for adding packages: writes package.json/tsconfig/tsup config for packages/<name>.
import fs from 'node:fs';
const [name, description, depsCsv = '', extraPeersCsv = ''] = process.argv.slice(2);
const dir = `packages/${name}`;
fs.mkdirSync(`${dir}/src`, { recursive: true });
const deps = Object.fromEntries(depsCsv.split(',').filter(Boolean).map((d) => [`@ofq/${d}`, 'workspace:*']));
const peers = { '@tensorflow/tfjs-core': '^4.22.0' };
const peerMeta = {};
for (const p of extraPeersCsv.split(',').filter(Boolean)) { peers[p] = '^4.22.0'; peerMeta[p] = { optional: true }; }
const pkg = {
  name: `@ofq/${name}`,
  version: '0.1.0',
  description,
  license: 'MIT',
  type: 'module',
  sideEffects: false,
  main: './dist/index.cjs',
  module: './dist/index.js',
  types: './dist/index.d.ts',
  exports: {
    '.': {
      '@ofq/source': './src/index.ts',
      import: { types: './dist/index.d.ts', default: './dist/index.js' },
      require: { types: './dist/index.d.cts', default: './dist/index.cjs' },
    },
    './package.json': './package.json',
  },
  files: ['dist', 'src', '!src/**/*.test.ts', 'README.md'],
  scripts: {
    build: 'tsup',
    typecheck: 'tsc --noEmit -p tsconfig.json',
    lint: 'publint --strict && attw --pack . --profile node16',
    test: 'vitest run --root ../.. --project-filter=none --dir packages/' + name,
  },
  dependencies: deps,
  peerDependencies: peers,
  ...(Object.keys(peerMeta).length ? { peerDependenciesMeta: peerMeta } : {}),
  devDependencies: { '@tensorflow/tfjs': 'catalog:', '@tensorflow/tfjs-core': 'catalog:' },
  publishConfig: { access: 'public' },
  repository: { type: 'git', url: 'https://example.invalid/ofq.git', directory: dir },
};
pkg.scripts.test = `cd ../.. && vitest run packages/${name}`;
if (!fs.existsSync(`${dir}/package.json`)) fs.writeFileSync(`${dir}/package.json`, JSON.stringify(pkg, null, 2) + '\n');
fs.writeFileSync(`${dir}/tsconfig.json`, JSON.stringify({ extends: '../../tsconfig.base.json', include: ['src'] }, null, 2) + '\n');
fs.writeFileSync(`${dir}/tsup.config.ts`, "import { libraryConfig } from '../../tsup.base';\n\nexport default libraryConfig();\n");
