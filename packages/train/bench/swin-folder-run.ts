/**
 * The Swin-T paper recipes on an ImageNet-format image folder, for real (Swin-T 224², 1000 classes), a
 * few optimizer steps each: generates a small folder (`ofq data make-folder`, 256 px JPEGs) and FP
 * torchvision-named teacher weights (`createSwin('swin-t')`), then runs `ofq train --recipe <r>` as its
 * own process with overrides that shorten the schedule but not the model (stage 1 one epoch of
 * accumulated micro-batches, stage 2 CGA one epoch, eval on the val folder, report), then `ofq eval`,
 * `ofq report` and `ofq export` (refused for Swin: the packed format holds DeiT only).
 *
 *   pnpm --filter @ofq/train bench:swin-folder
 *   SWIN_RECIPES=swin-t-w2a2,swin-t-w2a2+lsq SWIN_TRAIN=8 SWIN_VAL=8 SWIN_MICRO=2 SWIN_GLOBAL=4 SWIN_STAGE2_STEPS=2 …
 *
 * Prints per recipe: wall time per phase, seconds per optimizer step (from metrics.jsonl), peak RSS of the
 * trainer process (`/usr/bin/time -f %M`), the summary line. Writes bench/results/swin-folder-run.json.
 */
import { spawnSync } from 'node:child_process';
import { execSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../../..');
const BIN = path.join(ROOT, 'packages/train/src/bin.ts');
const env = (k: string, d: string) => process.env[k] ?? d;
/**
 * Recipes to run; `<recipe>+lsq` is the LSQ baseline of that recipe (`--set quant.method=lsq`),
 * `<recipe>+ckpt` trains with `model.gradientCheckpointing` at a larger micro-batch.
 */
const RECIPES = env('SWIN_RECIPES', 'swin-t-w2a2,swin-t-w3a3,swin-t-w4a4,swin-t-w2a2+lsq,swin-t-w2a2+ckpt').split(',');
const TRAIN = Number(env('SWIN_TRAIN', '8'));
const VAL = Number(env('SWIN_VAL', '8'));
const MICRO = Number(env('SWIN_MICRO', '2'));
/** The LSQ baseline's micro-batch: its learned weight steps need ≈250 MiB more than OFQ, and 2 images overflow the 4 GiB wasm heap. */
const LSQ_MICRO = Number(env('SWIN_LSQ_MICRO', '1'));
/** The micro-batch with gradient checkpointing (one block's activations are kept instead of all). */
const CKPT_MICRO = Number(env('SWIN_CKPT_MICRO', '4'));
const MODIFIERS: Record<string, { micro: number; sets: string[] }> = {
  lsq: { micro: LSQ_MICRO, sets: ['quant.method=lsq'] },
  ckpt: { micro: CKPT_MICRO, sets: ['model.gradientCheckpointing=true'] },
};
const GLOBAL = Number(env('SWIN_GLOBAL', '4'));
const STAGE2_STEPS = Number(env('SWIN_STAGE2_STEPS', '2'));
const WORK = env('SWIN_WORK', path.join(os.tmpdir(), 'ofq-swin-folder-bench'));
/** Extra `--set`s after the ones below (comma-separated), e.g. quant.method=lsq. */
const EXTRA = (process.env.SWIN_SET ?? '').split(',').filter(Boolean);

interface Run {
  recipe: string;
  microBatch: number;
  sets: string[];
  exitCode: number;
  wallS: number;
  peakRssMiB: number;
  stage1Steps: number;
  stage2Steps: number;
  secondsPerStep: { stage1: number[]; stage2: number[] };
  timings: Record<string, number> | null;
  summaryLine: string | null;
  fpTop1: number | null;
  quantTop1: number | null;
  evalExit: number;
  reportExit: number;
  exportMessage: string;
}

function ofqArgs(args: string[]): string[] {
  return ['--import', 'tsx', '--conditions=@ofq/source', BIN, ...args];
}

/** Runs `ofq <args>` as a child under /usr/bin/time; returns its status, output and peak RSS. */
function ofq(args: string[], log: string): { code: number; out: string; peakRssMiB: number; wallS: number } {
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', 'MAXRSS_KB=%M', process.execPath, ...ofqArgs(args)], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 28 });
  const out = `${r.stdout}${r.stderr}`;
  fs.writeFileSync(log, out);
  const rss = /MAXRSS_KB=(\d+)/.exec(out);
  return { code: r.status ?? -1, out, peakRssMiB: rss ? Number(rss[1]) / 1024 : NaN, wallS: (performance.now() - t0) / 1000 };
}

/** FP Swin-T with torchvision names, as `teacher.weights` expects (random init: a stand-in for swin_t's). */
async function makeTeacher(file: string): Promise<void> {
  if (fs.existsSync(file)) return;
  const tf = await import('@tensorflow/tfjs');
  const { setBackend } = await import('@ofq/core');
  await setBackend('cpu');
  const { createSwin, saveSafetensors } = await import('@ofq/vit');
  const model = createSwin({ preset: 'swin-t', seed: 7 });
  const sd = model.stateDict({ naming: 'torchvision' });
  fs.writeFileSync(file, saveSafetensors(sd));
  tf.dispose([...sd.values()]);
  model.dispose();
}

function stepSeconds(runDir: string): { stage1: number[]; stage2: number[] } {
  const file = path.join(runDir, 'metrics.jsonl');
  const out = { stage1: [] as number[], stage2: [] as number[] };
  if (!fs.existsSync(file)) return out;
  const recs = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; t: number; extra?: Record<string, number> });
  // Deltas between consecutive train records only (an eval in between would count as step time).
  let prev: number | null = null;
  for (const r of recs) {
    if (r.type !== 'train') {
      prev = null;
      continue;
    }
    if (prev !== null) (r.extra?.cgaFrozen !== undefined ? out.stage2 : out.stage1).push((r.t - prev) / 1000);
    prev = r.t;
  }
  return out;
}

async function main(): Promise<void> {
  fs.mkdirSync(WORK, { recursive: true });
  const folder = path.join(WORK, 'folder');
  if (!fs.existsSync(path.join(folder, 'val'))) {
    const from = fs.existsSync('/usr/share/datasets/fashion-mnist') ? 'fashion-mnist' : 'mnist';
    const limit = Math.max(TRAIN, VAL, 10); // at least one image per class
    const r = ofq(['data', 'make-folder', '--from', from, '--size', '256', '--limit', String(limit), '--out', folder, '--quiet'], path.join(WORK, 'make-folder.log'));
    if (r.code !== 0) throw new Error(`make-folder failed:\n${r.out}`);
  }
  const teacher = path.join(WORK, 'swin_t.safetensors');
  await makeTeacher(teacher);
  const load = fs.readFileSync('/proc/loadavg', 'utf8').trim();
  const started = new Date().toISOString();
  const runs: Run[] = [];
  for (const variant of RECIPES) {
    const [recipe, mod] = variant.split('+') as [string, string | undefined];
    if (mod !== undefined && !MODIFIERS[mod]) throw new Error(`SWIN_RECIPES: unknown modifier '+${mod}' (${Object.keys(MODIFIERS).join(', ')})`);
    const runDir = path.join(WORK, `run-${variant.replace('+', '-')}`);
    const micro = mod ? MODIFIERS[mod]!.micro : MICRO;
    fs.rmSync(runDir, { recursive: true, force: true });
    const sets = [
      `data.dir=${folder}`,
      `teacher.weights=${teacher}`,
      `data.trainSubset=${TRAIN}`,
      `data.testSubset=${VAL}`,
      'data.workers=1',
      'stage1.epochs=1',
      'stage1.cooldownEpochs=0',
      `stage1.batchSize=${micro}`,
      `stage1.globalBatch=${GLOBAL}`,
      `stage2.epochs=1`,
      `stage2.maxStepsPerEpoch=${STAGE2_STEPS}`,
      `quant.initBatch=${micro}`,
      `eval.batchSize=${micro}`,
      ...(mod ? MODIFIERS[mod]!.sets : []),
      ...EXTRA,
    ];
    const args = ['train', '--recipe', recipe, '--out', runDir, '--quiet', ...sets.flatMap((s) => ['--set', s])];
    console.log(`$ ofq ${args.join(' ')}`);
    const t = ofq(args, path.join(WORK, `${path.basename(runDir)}.log`));
    console.log(t.out.trim().split('\n').slice(-6).join('\n'));
    const summaryPath = path.join(runDir, 'summary.json');
    type Summary = { fpTop1?: number; quantTop1?: number; timings?: Record<string, number>; stage1?: { steps: number }; stage2?: { steps: number } | null };
    const summary = fs.existsSync(summaryPath) ? (JSON.parse(fs.readFileSync(summaryPath, 'utf8')) as Summary) : null;
    const ev = t.code === 0 ? ofq(['eval', runDir, '--quiet'], path.join(WORK, `${path.basename(runDir)}-eval.log`)) : { code: -1, out: '' };
    const rep = t.code === 0 ? ofq(['report', runDir], path.join(WORK, `${path.basename(runDir)}-report.log`)) : { code: -1, out: '' };
    const ex = t.code === 0 ? ofq(['export', runDir], path.join(WORK, `${path.basename(runDir)}-export.log`)) : { code: -1, out: '' };
    const run: Run = {
      recipe: variant,
      microBatch: micro,
      sets: sets.map((s) => s.replace(WORK, '$WORK')),
      exitCode: t.code,
      wallS: t.wallS,
      peakRssMiB: t.peakRssMiB,
      stage1Steps: summary?.stage1?.steps ?? 0,
      stage2Steps: summary?.stage2?.steps ?? 0,
      secondsPerStep: stepSeconds(runDir),
      timings: summary?.timings ?? null,
      summaryLine: /^top-1:.*$/m.exec(t.out)?.[0] ?? null,
      fpTop1: summary?.fpTop1 ?? null,
      quantTop1: summary?.quantTop1 ?? null,
      evalExit: ev.code,
      reportExit: rep.code,
      exportMessage: `exit ${ex.code}: ${ex.out.split('\n').filter((l) => l && !/^(MAXRSS|Command exited)/.test(l)).join(' ').trim()}`.replaceAll(WORK, '$WORK'),
    };
    console.log(JSON.stringify({ ...run, sets: undefined }));
    runs.push(run);
  }
  const commit = execSync('git rev-parse --short HEAD', { cwd: ROOT, encoding: 'utf8' }).trim();
  const result = { started, date: new Date().toISOString(), loadavgBefore: load, loadavgAfter: fs.readFileSync('/proc/loadavg', 'utf8').trim(), commit, cpus: os.cpus().length, node: process.version, train: TRAIN, val: VAL, microBatch: MICRO, globalBatch: GLOBAL, runs };
  const outDir = path.join(HERE, 'results');
  fs.mkdirSync(outDir, { recursive: true });
  const suffix = process.env.SWIN_RESULT ?? 'swin-folder-run';
  fs.writeFileSync(path.join(outDir, `${suffix}.json`), JSON.stringify(result, null, 2) + '\n');
  console.log(`wrote ${path.join(outDir, `${suffix}.json`)}`);
  if (runs.some((r) => r.exitCode !== 0)) process.exitCode = 1;
}

await main();
