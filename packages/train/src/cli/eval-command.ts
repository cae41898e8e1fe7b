import { evaluateRun } from '../run/evaluate-run.js';
import { ProgressBar, SilentProgress } from '../run/progress.js';
import { QUIET_FLAG, RUNTIME_FLAGS, integerFlag, stringFlag, type CliCommand } from './command.js';
import { runtimeFromFlags } from './runtime-flags.js';

export const evalCommand: CliCommand = {
  name: 'eval',
  summary: "re-evaluate a run's best FP and quantized checkpoints",
  positionals: [{ name: 'runDir', required: true }],
  flags: [
    { name: 'split', kind: 'string', value: '<split>', choices: ['test', 'val'], help: 'which split (default test)' },
    { name: 'batch-size', kind: 'string', value: '<N>', help: "evaluation batch size (default the run's eval.batchSize; lower it if the wasm heap overflows)" },
    ...RUNTIME_FLAGS, QUIET_FLAG,
  ],
  async run(args, io) {
    const split = stringFlag(args, 'split', 'test') as 'test' | 'val';
    const batchSize = integerFlag(args, 'batch-size', 1);
    await runtimeFromFlags(args);
    const progress = args.flags.quiet ? new SilentProgress() : new ProgressBar();
    const r = await evaluateRun(args.positionals[0]!, { split, batchSize, progress, log: io.err });
    const pct = (v: number | null) => (v === null ? 'n/a' : `${(100 * v).toFixed(2)}%`);
    io.out(`${split} top-1 (${r.images} images): fp ${pct(r.fpTop1)} · quantized ${pct(r.quantTop1)}`);
    return 0;
  },
};
