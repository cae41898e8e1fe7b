import { libraryConfig } from '../../tsup.base';

// The worker thread is its own entry (loaded by URL next to the module); import.meta.url must work in
// the CJS build too.
export default libraryConfig({ entry: ['src/index.ts', 'src/transform-worker.ts'], shims: true });
