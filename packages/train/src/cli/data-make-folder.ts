import { resolve } from 'node:path';
import { makeImageFolder } from '../data/make-folder.js';
import { UsageError, type ParsedArgs } from './args.js';
import { parseIntegerFlag } from './command.js';

export const DATA_USAGE = `usage:
  ofq data make-folder --from fashion-mnist|mnist --out <dir> [--size 64] [--limit N] [--quality 90]

Writes an ImageNet-format folder (train/<class>/*.jpg from the training set, val/<class>/*.jpg from the
test set) for data.dataset 'folder'. --limit keeps N images of each split, round-robin over
the classes (each class's first images), so no class folder is empty.`;

/** `ofq data <subcommand>`. */
export async function dataCommand(args: ParsedArgs, out: (s: string) => void): Promise<number> {
  const sub = args.positionals[0];
  if (sub !== 'make-folder') throw new UsageError(`ofq data: unknown subcommand '${sub ?? ''}'\n${DATA_USAGE}`);
  const o = args.options;
  if (typeof o.from !== 'string') throw new UsageError('ofq data make-folder needs --from fashion-mnist|mnist');
  if (typeof o.out !== 'string') throw new UsageError('ofq data make-folder needs --out <dir>');
  const num = (k: string, d: number): number => parseIntegerFlag(k, o[k], 0) ?? d;
  const dir = resolve(o.out);
  const r = await makeImageFolder({
    from: o.from as 'fashion-mnist' | 'mnist',
    out: dir,
    size: num('size', 64),
    limit: num('limit', 0),
    quality: num('quality', 90),
    dir: typeof o.dir === 'string' ? o.dir : undefined,
    log: args.options.quiet ? undefined : (l) => process.stderr.write(l + '\n'),
  });
  out(`${dir}: ${r.train} train / ${r.val} val JPEGs in ${r.classes.length} classes (${r.classes.join(', ')})`);
  return 0;
}
