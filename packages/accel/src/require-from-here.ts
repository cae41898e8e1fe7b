import { createRequire } from 'node:module';

/** A `require` relative to this package's module, in the ESM build and the CJS one. */
export function requireFromHere(): NodeRequire {
  // import.meta.url exists in the ESM build and is shimmed by tsup in the CJS build.
  const base = typeof import.meta !== 'undefined' && import.meta.url ? import.meta.url : `${process.cwd()}/`;
  return createRequire(base);
}
