import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  // import.meta.url (used to resolve onnxruntime-node) must work in the CJS build too.
  shims: true,
  target: 'node20',
  // tfjs is a peer: never bundled (tsup externalises dependencies and peers).
});
