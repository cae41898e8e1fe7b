import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, appendFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../data/rng.js';
import { compareRuns } from './compare-runs.js';
import { childrenMatching, groupGone, startCli, startJob, type Exit } from './processes.js';

/** The run every trial repeats: a one-block DeiT on 48 MNIST training images, 9 optimizer steps in 3 stages, ~10 saves. */
export const FAULT_RECIPE_SETS = [
  'data.trainSubset=72',
  'data.valSize=24',
  'data.testSubset=24',
  'model.embedDim=8',
  'model.depth=1',
  'model.numHeads=2',
  'model.mlpRatio=2',
  'teacher.train.epochs=2',
  'teacher.train.batchSize=24',
  'teacher.train.lr=0.005',
  'stage1.epochs=2',
  'stage1.batchSize=24',
  'stage1.lr=0.002',
  'stage2.epochs=1',
  'stage2.maxStepsPerEpoch=1',
  'quant.initBatch=16',
  'eval.batchSize=48',
];
const RUNTIME = ['--backend', 'cpu', '--accel', 'off', '--quiet'];
const trainArgs = (out: string, extra: string[] = []) => ['train', '--recipe', 'mnist-micro', ...FAULT_RECIPE_SETS.flatMap((s) => ['--set', s]), '--out', out, ...RUNTIME, ...extra];
const resumeArgs = (dir: string) => ['train', '--resume', dir, ...RUNTIME];

/** The named points where saveCheckpoint can be killed (see run/fault-seam.ts). */
export const RENAME_POINTS = ['checkpoint:written', 'checkpoint:between-renames', 'checkpoint:renamed'] as const;

export interface FaultSuiteOptions {
  /** Which rename points to kill at (default all three). */
  points?: ReadonlyArray<(typeof RENAME_POINTS)[number]> | 'all';
  /** Kill at `<point>@<n>` for these save numbers n (1-based) at every rename point; 'all' = every save. */
  saves: number[] | 'all';
  /** Runs killed at random moments (each killed twice: the fresh run and its first resume). */
  randomKills: number;
  /** The README launchers under real signals: Ctrl-C to the process group of `pnpm run main` and
   * (with 'all') `npm run quickstart`, and kill -9 of scripts/bootstrap.mjs. */
  signals: 'all' | 'short' | false;
  /** Every refusal of the run directory and the CLI, through the CLI. */
  refusals: boolean;
  seed?: number;
  log?: (line: string) => void;
}

export interface FaultSuiteReport {
  kills: number;
  resumes: number;
  /** Interrupted-and-resumed runs compared with the uninterrupted one. */
  compared: number;
  differences: string[];
  /** Checks that failed (a refusal not refused, a launcher that left a process behind, …). */
  failures: string[];
  checks: number;
}

class Suite {
  readonly report: FaultSuiteReport = { kills: 0, resumes: 0, compared: 0, differences: [], failures: [], checks: 0 };
  readonly work = mkdtempSync(join(tmpdir(), 'ofq-faults-'));
  reference = '';
  /** How often the reference run passed each fault point. */
  passes = new Map<string, number>();
  private n = 0;
  constructor(readonly log: (l: string) => void) {}

  dir(tag: string): string {
    return join(this.work, `${String(++this.n).padStart(3, '0')}-${tag.replace(/[^a-z0-9@-]+/gi, '_')}`);
  }

  check(ok: boolean, what: string): void {
    this.report.checks++;
    if (!ok) {
      this.report.failures.push(what);
      this.log(`FAIL ${what}`);
    }
  }

  /** Resumes until the run completes (status 0), then compares it with the reference. */
  async finish(dir: string, what: string): Promise<void> {
    const r = await startCli(resumeArgs(dir)).done;
    this.report.resumes++;
    this.check(r.code === 0, `${what}: resume exited ${r.code ?? r.signal}: ${r.stderr.trim().split('\n').at(-1)}`);
    this.compare(dir, what);
  }

  compare(dir: string, what: string): void {
    const d = compareRuns(this.reference, dir);
    this.report.compared++;
    for (const x of d) this.report.differences.push(`${what}: ${x}`);
    this.check(!leftovers(dir).length, `${what}: partial checkpoints left: ${leftovers(dir).join(', ')}`);
    this.log(`${what}: ${d.length ? `${d.length} differences` : 'identical'}`);
  }
}

/** `*.tmp-*` / `*.old-*` entries anywhere in a run directory. */
function leftovers(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (/\.(tmp|old)-\d+$/.test(e.name)) out.push(join(d, e.name));
      else if (e.isDirectory()) walk(join(d, e.name));
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

const killedBySeam = (r: Exit) => r.signal === 'SIGKILL';
const oneLine = (r: Exit) => r.stderr.trim().split('\n').filter((l) => !/^(=+|Hi, looks like|$)/.test(l.trim()));

async function renameKills(s: Suite, points: FaultSuiteOptions['points'], saves: number[] | 'all'): Promise<void> {
  for (const point of !points || points === 'all' ? RENAME_POINTS : points) {
    const passes = s.passes.get(point) ?? 0;
    for (let n = 1; n <= passes; n++) {
      if (saves !== 'all' && !saves.includes(n)) continue;
      const dir = s.dir(`${point}@${n}`);
      const r = await startCli(trainArgs(dir), { OFQ_FAULT: `${point}@${n}=kill` }).done;
      s.check(killedBySeam(r), `${point}@${n}: not killed (exit ${r.code}): ${r.stderr}`);
      if (!killedBySeam(r)) continue;
      s.report.kills++;
      await s.finish(dir, `kill at ${point}@${n}`);
    }
  }
}

async function randomKills(s: Suite, count: number, rng: Rng, runMs: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const dir = s.dir(`random-${i}`);
    let started = startCli(trainArgs(dir));
    for (let k = 0; k < 2; k++) {
      // Somewhere from process start to the end of a whole run: setup, any stage, a save, the report.
      const delay = Math.floor(runMs * (0.35 + 0.6 * rng.next()));
      const timer = setTimeout(() => started.child.kill('SIGKILL'), delay);
      const r = await started.done;
      clearTimeout(timer);
      if (r.signal !== 'SIGKILL') break;
      s.report.kills++;
      if (k === 0) {
        // Killed before config.json existed: there is no run to resume, so start it again.
        const resumable = existsSync(join(dir, 'config.json'));
        started = startCli(resumable ? resumeArgs(dir) : trainArgs(dir));
        if (resumable) s.report.resumes++;
      }
    }
    if (existsSync(join(dir, 'config.json'))) await s.finish(dir, `random kill ${i + 1}`);
    else {
      const r = await startCli(trainArgs(dir)).done; // both kills came before the run existed
      s.check(r.code === 0, `random kill ${i + 1}: fresh restart exited ${r.code}`);
      s.compare(dir, `random kill ${i + 1}`);
    }
  }
}

/** Ctrl-C to the process group of the README commands, and kill -9 of the launcher. */
async function signals(s: Suite, which: 'all' | 'short'): Promise<void> {
  const long = (dir: string) => [...FAULT_RECIPE_SETS.flatMap((x) => ['--set', x]), '--set', 'teacher.train.epochs=400', '--out', dir, '--backend', 'cpu', '--accel', 'off', '--no-report'].join(' ');
  for (const [what, command] of [
    ['Ctrl-C under pnpm run main', (d: string) => `pnpm run main ${long(d)}`],
    ['Ctrl-C under npm run quickstart', (d: string) => `npm run quickstart -- ${long(d)}`],
  ] as const) {
    if (which === 'short' && what.includes('quickstart')) continue;
    const dir = s.dir(what);
    const job = startJob(command(dir), { OFQ_SKIP_CHROMIUM: '1' });
    await job.waitFor(/^data: /m);
    await new Promise((r) => setTimeout(r, 1500));
    process.kill(-job.child.pid!, 'SIGINT');
    const r = await job.done;
    s.check(await groupGone(job.child.pid!), `${what}: processes left in the group`);
    // 130, or the shell above re-raising the SIGINT its child stopped on.
    s.check(r.code === 130 || r.signal === 'SIGINT', `${what}: exit ${r.code ?? r.signal} (want 130)`);
    s.check(/checkpoint saved in .*teacher\/last/.test(r.stderr) && existsSync(join(dir, 'teacher', 'last', 'state.json')), `${what}: no checkpoint saved:\n${r.stderr}`);
  }
  const dir = s.dir('kill -9 launcher');
  const job = startJob(`node scripts/bootstrap.mjs --run main ${long(dir)}`, { OFQ_SKIP_CHROMIUM: '1' });
  await job.waitFor(/^data: /m);
  const [launcher] = childrenMatching(job.child.pid!, /bootstrap\.mjs/);
  s.check(launcher !== undefined, 'kill -9 launcher: bootstrap.mjs not found');
  if (launcher) process.kill(launcher, 'SIGKILL');
  s.report.kills++;
  const gone = await groupGone(job.child.pid!, 30_000);
  s.check(gone, 'kill -9 launcher: the trainer kept running');
  s.check(existsSync(join(dir, 'teacher', 'last', 'state.json')), 'kill -9 launcher: the orphaned trainer saved no checkpoint');
  await job.done;
}

async function expectRefusal(s: Suite, what: string, args: string[], re: RegExp, code = 1, env: Record<string, string> = {}): Promise<void> {
  const r = await startCli(args, env).done;
  const lines = oneLine(r);
  s.check(r.code === code, `${what}: exit ${r.code ?? r.signal}, want ${code}: ${r.stderr}`);
  s.check(re.test(r.stderr), `${what}: message ${JSON.stringify(r.stderr)} does not match ${re}`);
  s.check(!/\n\s+at /.test(r.stderr), `${what}: printed a stack trace`);
  s.check(code === 2 || lines.length === 1, `${what}: ${lines.length} lines, want one`);
}

async function refusals(s: Suite): Promise<void> {
  const ref = s.reference;
  await expectRefusal(s, '--out onto a run', trainArgs(ref), /already holds a run .*--resume/);
  await expectRefusal(s, '--resume with --set', ['train', '--resume', ref, '--set', 'seed=7'], /cannot be combined with --set/, 2);
  await expectRefusal(s, 'unknown flag', ['train', '--recipe', 'mnist-micro', '--outt', 'X'], /unknown option --outt[\s\S]*usage: ofq train/, 2);
  await expectRefusal(s, 'stray argument', ['eval', ref, 'extra'], /unexpected argument 'extra'/, 2);
  await expectRefusal(s, '--set __proto__', ['train', '--recipe', 'mnist-micro', '--set', '__proto__.polluted=1'], /'__proto__' is not a recipe field name/);
  await expectRefusal(s, 'recipe is a directory', ['train', '--recipe', `${s.work}/`], /recipe file not found|is a directory/);

  // A run interrupted in stage 1, copied for each refusal.
  const base = s.dir('interrupted');
  const r = await startCli(trainArgs(base), { OFQ_FAULT: 'checkpoint:renamed@6=kill' }).done;
  s.check(killedBySeam(r), 'refusals: the interrupted run was not killed');
  s.report.kills++;
  const copy = (tag: string) => {
    const d = s.dir(tag);
    cpSync(base, d, { recursive: true });
    return d;
  };
  const edited = copy('edited config');
  const cfg = JSON.parse(readFileSync(join(edited, 'config.json'), 'utf8'));
  cfg.stage1.lr = 0.004;
  cfg.seed = 7;
  writeFileSync(join(edited, 'config.json'), JSON.stringify(cfg, null, 2));
  await expectRefusal(s, 'edited config.json', resumeArgs(edited), /different config than config\.json: fields differ: seed, stage1\.lr/);

  const locked = copy('locked');
  const holder = startJob('sleep 60');
  writeFileSync(join(locked, 'run.lock'), JSON.stringify({ pid: holder.child.pid }));
  await expectRefusal(s, 'run directory in use', resumeArgs(locked), new RegExp(`in use by process ${holder.child.pid}`));
  process.kill(-holder.child.pid!, 'SIGKILL');
  await holder.done;
  await s.finish(locked, 'stale lock taken over'); // the holder is dead now: its lock is stale

  const torn = copy('torn metrics line');
  appendFileSync(join(torn, 'metrics.jsonl'), '{"type":"train","step":9999,"lo');
  await s.finish(torn, 'torn metrics line');

  for (const code of ['ENOSPC', 'EROFS', 'EACCES']) {
    const full = s.dir(`${code}`);
    await expectRefusal(s, code, trainArgs(full), new RegExp(`^ofq: cannot write ${full}/\\S+: .*\\(${code}\\); the previous checkpoint \\S+ is intact$`, 'm'), 1, { OFQ_FAULT: `write@9=${code}` });
    s.check(!leftovers(full).length, `${code}: partial checkpoints left`);
    await s.finish(full, `${code} then resume`);
  }

  const report = s.dir('report failure');
  mkdirSync(join(report, 'report.html'), { recursive: true }); // the report cannot be written over a folder
  const rr = await startCli(trainArgs(report).filter((a) => a !== '--quiet')).done;
  s.check(rr.code === 0 && /warning: the report could not be written/.test(rr.stderr), `report failure: exit ${rr.code}, ${rr.stderr}`);
  s.compare(report, 'report failure');
}

/** Runs the fault-injection suite (see packages/train/README.md, "Fault tolerance"). */
export async function runFaultSuite(o: FaultSuiteOptions): Promise<FaultSuiteReport> {
  const log = o.log ?? (() => undefined);
  const s = new Suite(log);
  s.reference = s.dir('reference');
  const trace = join(s.work, 'reference-points.txt');
  const ref = await startCli(trainArgs(s.reference), { OFQ_FAULT_TRACE: trace }).done;
  if (ref.code !== 0) throw new Error(`fault suite: the reference run failed:\n${ref.stderr}`);
  for (const p of readFileSync(trace, 'utf8').split('\n').filter(Boolean)) s.passes.set(p, (s.passes.get(p) ?? 0) + 1);
  log(`reference run: ${(ref.ms / 1000).toFixed(1)} s, ${s.passes.get('checkpoint:written') ?? 0} checkpoint saves (${s.work})`);
  await renameKills(s, o.points, o.saves);
  await randomKills(s, o.randomKills, new Rng(o.seed ?? 12), ref.ms);
  if (o.signals) await signals(s, o.signals);
  if (o.refusals) await refusals(s);
  return s.report;
}
