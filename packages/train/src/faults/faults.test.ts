import { describe, expect, it } from 'vitest';
import { runFaultSuite } from './fault-suite.js';

// The short form of `pnpm --filter @ofq/train faults`: real processes, real kill -9 and SIGINT.
describe('fault injection (short form)', () => {
  it('kill -9 at a checkpoint rename, then resume: identical to the uninterrupted run; Ctrl-C and a killed launcher stop gracefully', async () => {
    const r = await runFaultSuite({ points: ['checkpoint:between-renames'], saves: [3], randomKills: 0, signals: 'short', refusals: false });
    expect(r.differences).toEqual([]);
    expect(r.failures).toEqual([]);
    expect(r.kills).toBe(2); // the seam kill and the launcher
    expect(r.resumes).toBe(1);
  }, 600_000);
});
