// Counts the learned LSQ weight steps of run checkpoints: how many went negative, how many are at the
// 1e-5 floor as the forward pass uses them (|s| under quant.lsqStep 'abs', s under 'clamp').
// Usage: tsx --conditions=@ofq/source packages/train/bench/lsq-steps.ts <runDir>...
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensors, toFloat32 } from '@ofq/core';

for (const dir of process.argv.slice(2)) {
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { quant: { lsqStep?: string } };
  const abs = (cfg.quant.lsqStep ?? 'abs') === 'abs';
  const ck = ['stage2', 'stage1'].map((s) => join(dir, s, 'best', 'weights.safetensors')).find(existsSync);
  if (!ck) {
    console.log(`${dir}: no checkpoint`);
    continue;
  }
  let count = 0;
  let negative = 0;
  let floor = 0;
  for (const [name, e] of readSafetensors(new Uint8Array(readFileSync(ck))).tensors) {
    if (!/^blocks\.\d+\..*(lsqw_fn|qk_quant|v_quant)\.s$/.test(name)) continue;
    for (const s of toFloat32(e)) {
      count++;
      if (s < 0) negative++;
      if ((abs ? Math.abs(s) : s) <= 1e-5) floor++;
    }
  }
  console.log(JSON.stringify({ dir, checkpoint: ck, lsqStep: abs ? 'abs' : 'clamp', steps: count, negative, atFloor: floor }));
}
