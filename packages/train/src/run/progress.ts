/** A small progress bar: label, bar, count, ETA and free-form stats. Redraws in place on a TTY. */
export interface ProgressSink {
  start(label: string, total: number): void;
  update(done: number, stats?: Record<string, string>): void;
  finish(summary?: string): void;
  log(line: string): void;
}

export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return '--:--';
  const s = Math.round(sec);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(r).padStart(2, '0')}` : `${m}:${String(r).padStart(2, '0')}`;
}

export class ProgressBar implements ProgressSink {
  private label = '';
  private total = 1;
  private t0 = 0;
  private lastDraw = 0;
  private lastLine = '';

  constructor(
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly tty = Boolean(process.stderr.isTTY),
    private readonly width = 24,
  ) {}

  start(label: string, total: number): void {
    this.label = label;
    this.total = Math.max(1, total);
    this.t0 = performance.now();
    this.lastDraw = 0;
  }

  render(done: number, stats: Record<string, string> = {}): string {
    const frac = Math.min(1, done / this.total);
    const filled = Math.round(frac * this.width);
    const elapsed = (performance.now() - this.t0) / 1000;
    const eta = done > 0 ? (elapsed * (this.total - done)) / done : NaN;
    const extra = Object.entries(stats)
      .map(([k, v]) => `${k} ${v}`)
      .join(' · ');
    return `${this.label} [${'█'.repeat(filled)}${'░'.repeat(this.width - filled)}] ${done}/${this.total} ${formatDuration(elapsed)}<${formatDuration(eta)}${extra ? ' · ' + extra : ''}`;
  }

  update(done: number, stats?: Record<string, string>): void {
    if (!this.tty) return; // non-TTY: only the finish line (logs stay readable in CI)
    const now = performance.now();
    if (now - this.lastDraw < 100 && done < this.total) return;
    this.lastDraw = now;
    this.lastLine = this.render(done, stats);
    this.out.write(`\r\x1b[2K${this.lastLine}`);
  }

  finish(summary?: string): void {
    const line = summary ? `${this.label} ${summary}` : this.lastLine;
    this.out.write(this.tty ? `\r\x1b[2K${line}\n` : `${line}\n`);
    this.lastLine = '';
  }

  log(line: string): void {
    this.out.write(this.tty && this.lastLine ? `\r\x1b[2K${line}\n${this.lastLine}` : `${line}\n`);
  }
}

/** Quiet mode: nothing but what the caller prints itself. */
export class SilentProgress implements ProgressSink {
  start(): void {}
  update(): void {}
  finish(): void {}
  log(): void {}
}
