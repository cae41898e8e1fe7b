import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as metricsPkg from '@ofq/metrics';

/** Writes `<runDir>/report.html` with @ofq/metrics' renderer; returns its path (null when it cannot). */
export async function renderRunReport(runDir: string, log: (l: string) => void = () => undefined): Promise<string | null> {
  const render = (metricsPkg as Record<string, unknown>).renderReportFile as
    | ((dir: string, o?: { title?: string }) => string)
    | undefined;
  if (typeof render !== 'function') {
    log('report: @ofq/metrics has no renderReportFile yet; skipped');
    return null;
  }
  if (!existsSync(join(runDir, 'meta.json'))) {
    log(`report: ${runDir} has no recorded metrics (meta.json); skipped`);
    return null;
  }
  return render(runDir);
}
