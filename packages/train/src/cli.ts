// The `ofq` command line: train / eval / report / doctor.
import { parseArgs, UsageError } from './cli/args.js';
import { doctor, formatDoctor } from './cli/doctor.js';
import { ABLATE_USAGE, ablateCommand } from './cli/ablate.js';
import { loadRecipe, listRecipes } from './recipe/load.js';
import { setupRuntime, installAccelIfPresent } from './runtime.js';
import { train } from './run/pipeline.js';
import { evaluateRun } from './run/evaluate-run.js';
import { renderRunReport } from './run/report.js';
import { InterruptedError, NonFiniteLossError, type RunControl } from './run/stage.js';
import { ProgressBar, SilentProgress } from './run/progress.js';
import { isOfqError, type BackendChoice } from '@ofq/core';
import { exportCommand, predictCommand } from './cli/ship.js';
import { augmentCommand } from './cli/augment.js';
import { dataCommand } from './cli/data-make-folder.js';

const USAGE = `ofq: train and evaluate oscillation-free quantized vision transformers (OFQ, ICML 2023)

usage:
  ofq train --recipe <name|file.yaml> [--set key=value]... [--out <runDir>] [--backend <b>] [--accel <e>] [--quiet]
  ofq train --resume <runDir> [--backend <b>] [--quiet]
  ofq eval <runDir> [--split test|val] [--backend <b>]
  ofq report <runDir>
${'${ablate}'}
  ofq augment <image> [--transform train|eval] [--op NAME --magnitude M] [--out file.png]
  ofq data make-folder --from fashion-mnist|mnist --out <dir> [--size 64]
  ofq export <runDir> [--out <file.ofq>]
  ofq predict <file.ofq> --data <mnist|fashion-mnist|idx dir> [--subset N] [--backend <b>]
  ofq doctor

options:
  --recipe   a shipped recipe (${'${recipes}'}) or a .yaml/.json file
  --set      override a recipe field by dotted path, e.g. --set stage1.lr=1e-3 --set data.trainSubset=2000
  --out      run directory (default runs/<recipe>-<time>); the resolved config is saved there
  --resume   continue an interrupted run exactly where it stopped
  --backend  auto | wasm | cpu | tensorflow | tensorflow-gpu (default auto)
  --accel    @ofq/accel kernel engine: auto | onnxruntime | wasm | off (default auto)
  --quiet    no progress bars (for CI); only the summary line
Ctrl-C saves a checkpoint and exits; resume with --resume.`;

const BACKENDS = ['auto', 'wasm', 'cpu', 'tensorflow', 'tensorflow-gpu'];

function backendOf(v: string | boolean | undefined): BackendChoice {
  const b = typeof v === 'string' ? v : 'auto';
  if (!BACKENDS.includes(b)) throw new UsageError(`--backend must be one of ${BACKENDS.join(', ')}, got '${b}'`);
  return b as BackendChoice;
}

export async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  const out = (s: string) => process.stdout.write(s + '\n');
  if (args.options.help || !args.command) {
    out(USAGE.replace('${recipes}', listRecipes().join(', ')).replace('${ablate}', ABLATE_USAGE));
    return args.command || args.options.help ? 0 : 1;
  }
  const quiet = Boolean(args.options.quiet);
  switch (args.command) {
    case 'train': {
      const resume = typeof args.options.resume === 'string' ? args.options.resume : undefined;
      if (!resume && typeof args.options.recipe !== 'string') throw new UsageError('ofq train needs --recipe <name|file> (or --resume <runDir>)');
      const recipe = resume ? undefined : loadRecipe(String(args.options.recipe), args.sets);
      const rt = await setupRuntime(backendOf(args.options.backend), typeof args.options.accel === 'string' ? args.options.accel : args.options['no-accel'] ? 'off' : 'auto');
      if (!quiet) process.stderr.write(`backend: ${rt.backend}${rt.accel ? ` · accel: ${rt.accel}` : ''}\n`);
      const control: RunControl = { stopRequested: false };
      let sigints = 0;
      const onSigint = () => {
        sigints++;
        if (sigints > 1) process.exit(130);
        control.stopRequested = true;
        process.stderr.write('\nstopping after this step and saving a checkpoint (Ctrl-C again to quit at once)\n');
      };
      process.on('SIGINT', onSigint);
      try {
        const r = await train({
          recipe,
          resume,
          outDir: typeof args.options.out === 'string' ? args.options.out : undefined,
          quiet,
          control,
          backend: rt.backend,
          report: !args.options['no-report'],
        });
        out(r.summaryLine);
        out(`run: ${r.runDir}${r.reportPath ? ` · report: ${r.reportPath}` : ''} · ${(r.seconds / 60).toFixed(1)} min`);
        return 0;
      } catch (e) {
        if (e instanceof InterruptedError) {
          process.stderr.write(`${e.message}\nresume with: ofq train --resume ${e.runDir ?? '<runDir>'}\n`);
          return 130;
        }
        throw e;
      } finally {
        process.off('SIGINT', onSigint);
      }
    }
    case 'eval': {
      const dir = args.positionals[0] ?? (typeof args.options.run === 'string' ? args.options.run : undefined);
      if (!dir) throw new UsageError('ofq eval needs a run directory');
      const split = args.options.split === 'val' ? 'val' : 'test';
      await setupRuntime(backendOf(args.options.backend), typeof args.options.accel === 'string' ? args.options.accel : 'auto');
      const r = await evaluateRun(dir, { split, progress: quiet ? new SilentProgress() : new ProgressBar() });
      const pct = (v: number | null) => (v === null ? 'n/a' : `${(100 * v).toFixed(2)}%`);
      out(`${split} top-1 (${r.images} images): fp ${pct(r.fpTop1)} · quantized ${pct(r.quantTop1)}`);
      return 0;
    }
    case 'report': {
      const dir = args.positionals[0];
      if (!dir) throw new UsageError('ofq report needs a run directory');
      const p = await renderRunReport(dir, (l) => process.stderr.write(l + '\n'));
      if (!p) return 1;
      out(p);
      return 0;
    }
    case 'ablate':
      return ablateCommand(args, out, backendOf(args.options.backend));
    case 'export':
      await setupRuntime(backendOf(args.options.backend), 'off');
      return exportCommand(args, out);
    case 'predict':
      await setupRuntime(backendOf(args.options.backend), typeof args.options.accel === 'string' ? args.options.accel : 'auto');
      return predictCommand(args, out);
    case 'doctor': {
      const { setBackend } = await import('@ofq/core');
      const r = await doctor(
        async () => {
          await import('@tensorflow/tfjs');
          return setBackend(backendOf(args.options.backend));
        },
        () => installAccelIfPresent('auto'),
      );
      out(formatDoctor(r));
      return 0;
    }
    case 'augment':
      return augmentCommand(args, out);
    case 'data':
      return dataCommand(args, out);
    default:
      throw new UsageError(`unknown command '${args.command}' (train, eval, report, ablate, export, predict, augment, data, doctor)`);
  }
}

function isMain(): boolean {
  const entry = process.argv[1] ?? '';
  return /(?:^|[\\/])(?:cli\.(?:ts|js|cjs|mjs)|ofq)$/.test(entry);
}

/** Runs the CLI with process.argv and exits with its status (the bin entry). */
export function run(): void {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: Error) => {
      const known = e instanceof UsageError || isOfqError(e) || e instanceof NonFiniteLossError || ['RecipeError', 'DataError', 'MissingDataError', 'CheckpointError', 'BackendUnavailableError'].includes(e.name);
      process.stderr.write(`ofq: ${known ? e.message : (e.stack ?? e.message)}\n`);
      if (e instanceof UsageError) process.stderr.write('run `ofq --help` for usage\n');
      process.exit(e instanceof NonFiniteLossError ? 3 : 1);
    },
  );
}

if (isMain()) run();
