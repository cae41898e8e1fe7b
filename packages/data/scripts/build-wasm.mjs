// Compiles src/kernels/*.wat to src/kernels/<name>.wasm.generated.ts (the module bytes as base64), so
// neither the build nor users need an assembler. `--check` fails if a generated file is stale.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'kernels');
const check = process.argv.includes('--check');
const wabt = await wabtInit();
let stale = 0;
for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.wat'))) {
  const mod = wabt.parseWat(file, fs.readFileSync(path.join(dir, file), 'utf8'), { simd: true });
  mod.validate();
  const { buffer } = mod.toBinary({});
  mod.destroy();
  const out = path.join(dir, `${file.replace(/\.wat$/, '')}.wasm.generated.ts`);
  const text = `// Generated from ${file} by scripts/build-wasm.mjs: do not edit.\nexport const WASM_BASE64 =\n  '${Buffer.from(buffer).toString('base64')}';\n`;
  if (check) {
    if (!fs.existsSync(out) || fs.readFileSync(out, 'utf8') !== text) {
      console.error(`${path.relative(process.cwd(), out)} is stale: run pnpm --filter @ofq/data build:wasm`);
      stale++;
    }
  } else {
    fs.writeFileSync(out, text);
    console.log(`${file} → ${path.basename(out)} (${buffer.length} bytes)`);
  }
}
process.exit(stale ? 1 : 0);
