import { defineConfig } from 'tsup';
import { libraryOptions } from '../../tsup.base';

export default defineConfig([
  // import.meta.url in the CJS build (recipes folder, embedded MNIST lookup).
  libraryOptions({ shims: true }),
  {
    // The `ofq` bin: ESM with a shebang.
    entry: { cli: 'src/bin.ts' },
    format: ['esm'],
    dts: false,
    clean: false,
    sourcemap: true,
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
  },
]);
