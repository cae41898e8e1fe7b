import * as tf from '@tensorflow/tfjs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { markdownBlocks, runMarkdownBlocks } from '@ofq/core/testing';

const pkg = fileURLToPath(new URL('..', import.meta.url));

describe('README', () => {
  it('runs every ```ts runnable block of packages/layers/README.md as written', async () => {
    await tf.setBackend('cpu');
    const blocks = markdownBlocks(`${pkg}/README.md`);
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    const logs: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void logs.push(a.map(String).join(' ')));
    try {
      await runMarkdownBlocks(blocks, pkg, 'packages/layers/README.md');
    } finally {
      spy.mockRestore();
    }
    expect(logs.join('\n')).toMatch(/OFQ: 2 layer\(s\), 1036 of 1050 weights quantized/);
    expect(logs.join('\n')).toMatch(/^true /m); // save/load block: bit-identical outputs
  });
});
