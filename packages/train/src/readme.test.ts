import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { markdownBlocks, runMarkdownBlocks } from '@ofq/core/testing';

const pkg = fileURLToPath(new URL('..', import.meta.url));

describe('README', () => {
  it('runs the library example (```ts runnable) as written: setupRuntime installs accel, train() runs', async () => {
    const blocks = markdownBlocks(`${pkg}/README.md`);
    expect(blocks).toHaveLength(1);
    const logs: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void logs.push(a.map(String).join(' ')));
    const err = vi.spyOn(process.stderr, 'write');
    try {
      await runMarkdownBlocks(blocks, pkg, 'packages/train/README.md');
    } finally {
      log.mockRestore();
      rmSync('runs/readme-example', { recursive: true, force: true });
    }
    expect(logs.join('\n')).toMatch(/w2a2/i);
    // setupRuntime installed @ofq/accel, so train() had nothing to warn about.
    expect(err.mock.calls.map((c) => String(c[0])).join('')).not.toMatch(/accel's kernels are not installed/);
    err.mockRestore();
  });
});
