import { InterruptedError } from '../errors.js';
import { loadRecipe, listRecipes } from '../recipe/load.js';
import { train } from '../run/pipeline.js';
import type { RunControl } from '../run/stage.js';
import { QUIET_FLAG, RUNTIME_FLAGS, stringFlag, type CliCommand } from './command.js';
import { runtimeFromFlags } from './runtime-flags.js';
import { installStopHandlers } from './stop-signals.js';

export const trainCommand: CliCommand = {
  name: 'train',
  summary: 'train a recipe (FP teacher → W/A-bit OFQ student → CGA), or resume an interrupted run',
  synopses: [
    '--recipe <name|file.yaml> [--set key=value]... [--out <runDir>] [--backend <b>] [--accel <e>] [--quiet] [--no-report]',
    '--resume <runDir> [--backend <b>] [--accel <e>] [--quiet] [--no-report]',
  ],
  flags: [
    { name: 'recipe', kind: 'string', value: '<name|file>', help: `a shipped recipe (${listRecipesSafe()}) or a .yaml/.json file` },
    { name: 'set', kind: 'list', value: '<key=value>', help: 'override a recipe field by dotted path (repeatable), e.g. --set stage1.lr=1e-3' },
    { name: 'out', kind: 'string', value: '<runDir>', help: 'new run directory (default runs/<recipe>-<time>); refused if it already holds a run' },
    { name: 'resume', kind: 'string', value: '<runDir>', help: 'continue an interrupted run exactly where it stopped (its config.json is the config)' },
    ...RUNTIME_FLAGS,
    QUIET_FLAG,
    { name: 'no-report', kind: 'boolean', help: 'do not write report.html at the end' },
  ],
  validate(args, fail) {
    if (args.flags.resume !== undefined) {
      const extra = ['recipe', 'set', 'out'].filter((f) => args.flags[f] !== undefined);
      if (extra.length) {
        throw fail(`--resume continues a run with its saved config.json; it cannot be combined with ${extra.map((f) => `--${f}`).join(', ')} (start a new run with --out instead)`);
      }
    } else if (args.flags.recipe === undefined) {
      throw fail('ofq train needs --recipe <name|file> (or --resume <runDir>)');
    }
  },
  async run(args, io) {
    const resume = stringFlag(args, 'resume');
    const recipe = resume ? undefined : loadRecipe(stringFlag(args, 'recipe')!, (args.flags.set as string[] | undefined) ?? []);
    const quiet = Boolean(args.flags.quiet);
    const rt = await runtimeFromFlags(args);
    if (!quiet) io.err(`backend: ${rt.backend}${rt.accel ? ` · accel: ${rt.accel}` : ''}`);
    const control: RunControl = { stopRequested: false };
    const uninstall = installStopHandlers({ control, err: io.err });
    try {
      const r = await train({ recipe, resume, outDir: stringFlag(args, 'out'), quiet, control, backend: rt.backend, report: !args.flags['no-report'] });
      io.out(r.summaryLine);
      io.out(`run: ${r.runDir}${r.reportPath ? ` · report: ${r.reportPath}` : ''} · ${(r.seconds / 60).toFixed(1)} min`);
      return 0;
    } catch (e) {
      if (!(e instanceof InterruptedError)) throw e;
      io.err(`${e.message}\nresume with: ofq train --resume ${e.runDir ?? '<runDir>'}`);
      return 130;
    } finally {
      uninstall();
    }
  },
};

function listRecipesSafe(): string {
  try {
    return listRecipes().join(', ');
  } catch {
    return 'see recipes/';
  }
}
