// `ofq export` and `ofq predict`: ship a run's quantized model as a packed .ofq file and check it.
import { exportRun, formatPackedSize } from '../run/export-run.js';
import { predictPacked } from '../run/predict-packed.js';
import { ProgressBar, SilentProgress } from '../run/progress.js';
import { UsageError } from '../errors.js';
import { QUIET_FLAG, RUNTIME_FLAGS, integerFlag, stringFlag, type CliCommand } from './command.js';
import { runtimeFromFlags } from './runtime-flags.js';

export const exportCommand: CliCommand = {
  name: 'export',
  summary: 'pack the best quantized checkpoint of a run as a .ofq file (@ofq/runtime); prints FP vs packed size',
  positionals: [{ name: 'runDir', required: false }],
  flags: [{ name: 'out', kind: 'string', value: '<file.ofq>', help: 'output file (default <runDir>/model.ofq)' }, ...RUNTIME_FLAGS, QUIET_FLAG],
  async run(args, io) {
    const dir = args.positionals[0];
    if (!dir) throw new UsageError('ofq export needs a run directory');
    await runtimeFromFlags({ ...args, flags: { ...args.flags, accel: 'off' } });
    const r = exportRun(dir, { out: stringFlag(args, 'out') });
    io.out(`wrote ${r.path} from ${r.checkpoint}: ${formatPackedSize(r, 'packed')}`);
    return 0;
  },
};

export const predictCommand: CliCommand = {
  name: 'predict',
  summary: 'test top-1 of a packed .ofq model on a dataset',
  positionals: [{ name: 'file.ofq', required: false }],
  flags: [
    { name: 'data', kind: 'string', value: '<mnist|fashion-mnist|idx dir|image folder>', help: 'the images to classify (an image folder: its val/<class>/ images, matched to the model\'s class names)' },
    { name: 'subset', kind: 'string', value: '<N>', help: 'only the first N test images (default all)' },
    ...RUNTIME_FLAGS,
    QUIET_FLAG,
  ],
  async run(args, io) {
    const file = args.positionals[0];
    if (!file) throw new UsageError('ofq predict needs a packed model file (.ofq)');
    const data = stringFlag(args, 'data');
    if (data === undefined) throw new UsageError('ofq predict needs --data <mnist|fashion-mnist|idx dir|image folder>');
    const subset = integerFlag(args, 'subset', 0) ?? 0;
    await runtimeFromFlags(args);
    const r = await predictPacked(file, { data, subset, progress: args.flags.quiet ? new SilentProgress() : new ProgressBar() });
    const rec = r.recordedTop1 === null ? '' : ` (run's test figure ${(100 * r.recordedTop1).toFixed(2)}%)`;
    io.out(`top-1 ${(100 * r.top1).toFixed(2)}% on ${r.images} images${rec}`);
    return 0;
  },
};
