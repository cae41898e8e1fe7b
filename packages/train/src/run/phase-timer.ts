/** Wall-clock seconds per pipeline phase: `lap(name)` closes the phase that ran since the previous lap. */
export class PhaseTimer {
  readonly seconds: Record<string, number> = {};
  private last = performance.now();

  lap(phase: string): void {
    const now = performance.now();
    this.seconds[phase] = Math.round((this.seconds[phase] ?? 0) * 1000 + (now - this.last)) / 1000;
    this.last = now;
  }

  /** One line for the log: `time: teacher 2.3 min · stage1 1.8 min · …` (phases under 0.5 s left out). */
  format(): string {
    const f = (v: number) => (v >= 60 ? `${(v / 60).toFixed(1)} min` : `${v.toFixed(0)} s`);
    return Object.entries(this.seconds)
      .filter(([, v]) => v >= 0.5)
      .map(([k, v]) => `${k} ${f(v)}`)
      .join(' · ');
  }
}
