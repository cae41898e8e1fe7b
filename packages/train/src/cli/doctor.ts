import { createRequire } from 'node:module';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';

const TFJS_PACKAGES = [
  '@tensorflow/tfjs',
  '@tensorflow/tfjs-core',
  '@tensorflow/tfjs-layers',
  '@tensorflow/tfjs-backend-cpu',
  '@tensorflow/tfjs-backend-wasm',
  '@tensorflow/tfjs-node',
  '@tensorflow/tfjs-node-gpu',
];

function packageDir(spec: string, from: string): string | null {
  try {
    const req = createRequire(from);
    return dirname(realpathSync(req.resolve(`${spec}/package.json`)));
  } catch {
    return null;
  }
}

function versionAt(dir: string): string {
  try {
    return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;
  } catch {
    return '?';
  }
}

export interface DoctorReport {
  node: string;
  packages: Array<{ name: string; version: string | null; path: string | null }>;
  /** Distinct physical copies of tfjs-core reachable from the packages that load it. */
  tfjsCoreCopies: Array<{ path: string; version: string; via: string[] }>;
  backends: Array<{ name: string; available: boolean; note?: string }>;
  chosen: string | null;
  accel: string | null;
}

/** Collects the facts `ofq doctor` prints. `chooseBackend` selects 'auto' and returns its name. */
export async function doctor(chooseBackend: () => Promise<string>, accel: () => Promise<string | null>): Promise<DoctorReport> {
  const here = import.meta.url;
  const cwd = join(process.cwd(), 'package.json');
  const packages = TFJS_PACKAGES.map((name) => {
    const dir = packageDir(name, here) ?? packageDir(name, cwd);
    return { name, version: dir ? versionAt(dir) : null, path: dir };
  });
  // tfjs-core as seen from every package that depends on it: more than one path = duplicate engines.
  const copies = new Map<string, string[]>();
  for (const p of [{ name: '@ofq/train', path: dirname(new URL(here).pathname) }, ...packages]) {
    if (!p.path) continue;
    const core = packageDir('@tensorflow/tfjs-core', join(p.path, 'package.json'));
    if (core) copies.set(core, [...(copies.get(core) ?? []), p.name]);
  }
  const backends = [
    { name: 'tensorflow', pkg: '@tensorflow/tfjs-node' },
    { name: 'tensorflow-gpu', pkg: '@tensorflow/tfjs-node-gpu' },
    { name: 'wasm', pkg: '@tensorflow/tfjs-backend-wasm' },
    { name: 'cpu', pkg: '@tensorflow/tfjs-backend-cpu' },
  ].map((b) => {
    const dir = packages.find((p) => p.name === b.pkg)?.path;
    return { name: b.name, available: Boolean(dir && existsSync(dir)), note: dir ? undefined : `${b.pkg} not installed` };
  });
  let chosen: string | null = null;
  try {
    chosen = await chooseBackend();
  } catch (e) {
    chosen = null;
    backends.push({ name: 'auto', available: false, note: (e as Error).message });
  }
  return {
    node: process.version,
    packages,
    tfjsCoreCopies: [...copies].map(([path, via]) => ({ path, version: versionAt(path), via })),
    backends,
    chosen,
    accel: await accel(),
  };
}

export function formatDoctor(r: DoctorReport): string {
  const lines = [`node ${r.node}`, 'tfjs packages:'];
  for (const p of r.packages) lines.push(`  ${p.name.padEnd(30)} ${p.version ?? '(not installed)'}`);
  lines.push(
    r.tfjsCoreCopies.length > 1
      ? `tfjs-core copies: ${r.tfjsCoreCopies.length} (DUPLICATES: kernels and gradients register in one engine only)`
      : `tfjs-core copies: ${r.tfjsCoreCopies.length} (ok)`,
  );
  for (const c of r.tfjsCoreCopies) lines.push(`  ${c.version} ${c.path} (via ${c.via.join(', ')})`);
  lines.push('backends:');
  for (const b of r.backends) lines.push(`  ${b.name.padEnd(15)} ${b.available ? 'available' : 'unavailable'}${b.note ? ` (${b.note})` : ''}`);
  lines.push(`chosen backend (auto): ${r.chosen ?? 'none'}`);
  lines.push(`accel: ${r.accel ?? '@ofq/accel not available'}`);
  return lines.join('\n');
}
