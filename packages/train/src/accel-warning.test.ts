import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { LSQ_QUANTIZE_KERNEL, hasKernel } from '@ofq/core';
import { installAccelIfPresent, warnIfNoAccel } from './runtime.js';

describe('train() without @ofq/accel', () => {
  it('says so once per process on wasm/cpu, and not once accel is installed', async () => {
    await tf.setBackend('cpu');
    expect(hasKernel(LSQ_QUANTIZE_KERNEL)).toBe(false); // fresh process: nothing installed yet
    const lines: string[] = [];
    warnIfNoAccel((l) => lines.push(l));
    warnIfNoAccel((l) => lines.push(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/@ofq\/accel's kernels are not installed on the cpu backend.*setupRuntime/);
    await installAccelIfPresent('auto');
    expect(hasKernel(LSQ_QUANTIZE_KERNEL)).toBe(true);
  });
});
