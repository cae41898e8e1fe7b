import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import { MetricsRecorder, type TrackedLayer } from '@ofq/metrics';

/** One record per optimizer step (type 'step') or per epoch (type 'epoch'). */
export type MetricRecord = Record<string, unknown> & { type: string; stage: string };

export interface MetricsSink {
  record(r: MetricRecord): void;
  close(): void;
}

/** JSON Lines writer (one JSON object per line), appending so a resumed run continues the file. */
export class JsonlSink implements MetricsSink {
  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
  }
  record(r: MetricRecord): void {
    appendFileSync(this.path, JSON.stringify({ time: Date.now(), ...r }) + '\n');
  }
  close(): void {}
}

const NUMERIC = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * Feeds the quantized stages into @ofq/metrics' MetricsRecorder (oscillation, BR occupancy, scale
 * trajectories of every quantized weight on its own quantizer's grid; LSQ step means), which writes `<runDir>/meta.json` and
 * `<runDir>/metrics.jsonl` for the HTML report. Steps are numbered across stages (stage 2 continues
 * after stage 1). A resumed run keeps the earlier records.
 */
export class RecorderSink implements MetricsSink {
  private readonly recorder: MetricsRecorder;
  /** Step offset per stage (stage 2 starts after stage 1's steps). */
  readonly offsets = new Map<string, number>();

  constructor(
    runDir: string,
    layers: TrackedLayer[],
    scales: Array<{ name: string; variable: tf.Tensor }>,
    config: Record<string, unknown>,
    private readonly fallback: MetricsSink,
  ) {
    const file = join(runDir, 'metrics.jsonl');
    const previous = existsSync(file) ? readFileSync(file, 'utf8') : '';
    this.recorder = new MetricsRecorder({
      dir: runDir,
      name: String(config.name ?? 'run'),
      config,
      layers,
      scales,
    });
    if (previous) writeFileSync(file, previous); // the recorder starts a new file; keep a resumed run's history
  }

  record(r: MetricRecord): void {
    const offset = this.offsets.get(r.stage) ?? 0;
    const step = offset + Number(r.step ?? 0);
    const extra: Record<string, number> = {};
    for (const [k, v] of Object.entries(r)) if (NUMERIC(v) && !['step', 'epoch', 'loss', 'lr', 'time'].includes(k)) extra[k] = v;
    extra.stage = r.stage === 'stage2' ? 2 : 1;
    if (r.type === 'step') {
      this.recorder.record({ step, epoch: r.epoch as number, loss: r.loss as number, lr: r.lr as number, extra });
    } else if (r.type === 'epoch') {
      this.recorder.recordEval({ step, epoch: r.epoch as number, loss: r.trainLoss as number, accuracy: r.valTop1 as number, extra });
    } else {
      this.fallback.record(r);
      if (r.type === 'eval' && NUMERIC(r.top1)) this.recorder.recordEval({ step, accuracy: r.top1, extra: { test: 1, ...extra } });
    }
  }

  /** Restarts oscillation tracking (call when the weights are reloaded from a checkpoint). */
  resetTracking(): void {
    this.recorder.resetTracking();
  }

  close(): void {
    this.recorder.close();
  }
}

/** Sends teacher records to one sink and student records to another. */
export class StageRouter implements MetricsSink {
  student: MetricsSink | null = null;
  constructor(readonly teacher: MetricsSink) {}
  record(r: MetricRecord): void {
    (r.stage === 'teacher' || !this.student ? this.teacher : this.student).record(r);
  }
  close(): void {
    this.student?.close();
    this.teacher.close();
  }
}
