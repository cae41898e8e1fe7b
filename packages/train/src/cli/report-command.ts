import { resolve } from 'node:path';
import { renderRunReport } from '../run/report.js';
import { readRunConfig } from '../run/run-dir.js';
import { acquireRunLock } from '../run/run-lock.js';
import type { CliCommand } from './command.js';

export const reportCommand: CliCommand = {
  name: 'report',
  summary: '(re)write <runDir>/report.html from the recorded metrics',
  positionals: [{ name: 'runDir', required: true }],
  flags: [],
  async run(args, io) {
    const dir = resolve(args.positionals[0]!);
    readRunConfig(dir, `${dir} is not a run directory`);
    const lock = acquireRunLock(dir, 'report', io.err);
    try {
      const p = await renderRunReport(dir, io.err);
      if (!p) return 1;
      io.out(p);
      return 0;
    } finally {
      lock.release();
    }
  },
};
