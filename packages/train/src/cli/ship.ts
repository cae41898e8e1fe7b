// `ofq export` and `ofq predict`: ship a run's quantized model as a packed .ofq file and check it.
import { exportRun, formatPackedSize } from '../run/export-run.js';
import { predictPacked } from '../run/predict-packed.js';
import { ProgressBar, SilentProgress } from '../run/progress.js';
import { UsageError, type ParsedArgs } from './args.js';

export function exportCommand(args: ParsedArgs, out: (s: string) => void): number {
  const dir = args.positionals[0];
  if (!dir) throw new UsageError('ofq export needs a run directory');
  const o = args.options.out;
  if (o !== undefined && typeof o !== 'string') throw new UsageError('--out needs a file name');
  const r = exportRun(dir, { out: o });
  out(`wrote ${r.path} from ${r.checkpoint}: ${formatPackedSize(r, 'packed')}`);
  return 0;
}

export async function predictCommand(args: ParsedArgs, out: (s: string) => void): Promise<number> {
  const file = args.positionals[0];
  if (!file) throw new UsageError('ofq predict needs a packed model file (.ofq)');
  const data = args.options.data;
  if (typeof data !== 'string') throw new UsageError('ofq predict needs --data <mnist|fashion-mnist|idx dir>');
  const subsetRaw = args.options.subset;
  const subset = subsetRaw === undefined ? 0 : Number(subsetRaw);
  if (!Number.isInteger(subset) || subset < 0) throw new UsageError(`--subset must be a non-negative integer, got '${String(subsetRaw)}'`);
  const r = await predictPacked(file, { data, subset, progress: args.options.quiet ? new SilentProgress() : new ProgressBar() });
  const rec = r.recordedTop1 === null ? '' : ` (run's test figure ${(100 * r.recordedTop1).toFixed(2)}%)`;
  out(`top-1 ${(100 * r.top1).toFixed(2)}% on ${r.images} images${rec}`);
  return 0;
}
