import { describe, expect, it } from 'vitest';
import { cleanUp } from './clean-up.js';

describe('cleanUp', () => {
  const steps = (ran: string[]) => [
    () => ran.push('a'),
    () => {
      ran.push('b');
      throw new RangeError('memory access out of bounds');
    },
    async () => {
      ran.push('c');
      throw new Error('second');
    },
    () => ran.push('d'),
  ];

  it('a failing run: every step runs and cleanup errors are dropped (the run\'s own error is the one reported)', async () => {
    const ran: string[] = [];
    await expect(cleanUp(steps(ran), true)).resolves.toBeUndefined();
    expect(ran).toEqual(['a', 'b', 'c', 'd']);
  });

  it('a successful run: every step runs, then the first cleanup error is thrown', async () => {
    const ran: string[] = [];
    await expect(cleanUp(steps(ran), false)).rejects.toThrow(RangeError);
    expect(ran).toEqual(['a', 'b', 'c', 'd']);
  });
});
