import { defineConfig, type Options } from 'tsup';

/**
 * The build every @ofq library shares: ESM + CJS + .d.ts for Node 20. tfjs stays external (tsup
 * externalises dependencies and peers), so no package ever bundles a second tfjs engine.
 */
export function libraryOptions(overrides: Options = {}): Options {
  return {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    sourcemap: true,
    target: 'node20',
    ...overrides,
  };
}

/** `libraryOptions` as a whole tsup config, for packages with no other build. */
export function libraryConfig(overrides: Options = {}) {
  return defineConfig(libraryOptions(overrides));
}
