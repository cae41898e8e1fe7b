import { QUIET_FLAG, type CliCommand } from './command.js';
import { legacyArgs } from './args.js';
import { augmentCommand as runAugment } from './augment.js';
import { dataCommand as runData } from './data-make-folder.js';
import { ablateCommand as runAblate, ABLATE_USAGE } from './ablate.js';
import { RUNTIME_FLAGS } from './command.js';
import type { BackendChoice } from '@ofq/core';

const s = (name: string, value: string, help: string) => ({ name, kind: 'string' as const, value, help });

/** `ofq augment` (cli/augment.ts) in the command table. */
export const augmentTableCommand: CliCommand = {
  name: 'augment',
  summary: 'write what the model is fed: the train/eval transform or one RandAugment op of an image (PNG)',
  positionals: [{ name: 'image', required: false }],
  flags: [
    s('transform', '<train|eval|none>', 'which transform (default train; eval with --op)'),
    s('size', '<px>', 'output size (default 224)'),
    s('crop-pct', '<f>', 'eval centre-crop fraction (default 0.875)'),
    s('rand-augment', '<spec>', 'timm RandAugment spec (default rand-m9-mstd0.5-inc1)'),
    s('seed', '<n>', 'random seed (default 0)'),
    s('draws', '<n>', 'draws of the train transform, tiled in a contact sheet'),
    s('op', '<name>', 'one RandAugment op'),
    s('magnitude', '<m>', 'magnitude of --op'),
    s('sign', '<+|->', 'sign of --op'),
    s('resample', '<bilinear|bicubic>', 'filter of --op'),
    s('out', '<file.png>', 'output file (default augmented.png)'),
    QUIET_FLAG,
  ],
  run: (args, io) => runAugment(legacyArgs('augment', args), io.out),
};

/** `ofq data make-folder` (cli/data-make-folder.ts) in the command table. */
export const dataTableCommand: CliCommand = {
  name: 'data',
  summary: 'data make-folder: write an ImageNet-format folder (train/ and val/ class folders of JPEGs) from MNIST or Fashion-MNIST',
  synopses: ['make-folder --from fashion-mnist|mnist --out <dir> [--size 64] [--limit N] [--quality 90] [--dir <idx dir>]'],
  positionals: [{ name: 'subcommand', required: false }],
  flags: [
    s('from', '<fashion-mnist|mnist>', 'source dataset'),
    s('out', '<dir>', 'folder to write'),
    s('size', '<px>', 'image size (default 64)'),
    s('limit', '<n>', 'n images of each split, round-robin over the classes (default all)'),
    s('quality', '<q>', 'JPEG quality (default 90)'),
    s('dir', '<idx dir>', 'IDX files to read instead of the default location'),
    QUIET_FLAG,
  ],
  run: (args, io) => runData(legacyArgs('data', args), io.out),
};

/** `ofq ablate` (cli/ablate.ts) in the command table. */
export const ablateTableCommand: CliCommand = {
  name: 'ablate',
  summary: 'the ablation study: variants × bits × seeds from one recipe, with a shared FP teacher per seed',
  synopses: [ABLATE_USAGE.trim().replace(/^ofq ablate /, '')],
  flags: [
    s('recipe', '<name|file>', 'the base recipe'),
    { name: 'set', kind: 'list', value: '<key=value>', help: 'override a recipe field (repeatable)' },
    s('variants', '<list>', 'comma-separated variants: lsq, statsq, statsq+qkr, ofq'),
    s('bits', '<list>', 'comma-separated weight/activation bits, e.g. 2,4'),
    s('seeds', '<n|a,b|a..b>', 'seeds: 3 = 1..3, a list, or a range'),
    s('out', '<dir>', 'the study directory'),
    { name: 'teachers-only', kind: 'boolean', help: 'train only the per-seed FP teachers' },
    { name: 'report-only', kind: 'boolean', help: 'only (re)write the study report' },
    ...RUNTIME_FLAGS,
    QUIET_FLAG,
  ],
  run: (args, io) => runAblate(legacyArgs('ablate', args), io.out, (typeof args.flags.backend === 'string' ? args.flags.backend : 'auto') as BackendChoice),
};
