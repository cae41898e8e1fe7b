import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { renderReportFile } from '@ofq/metrics';
import { readRunClasses } from './run-classes.js';

/** Writes `<runDir>/report.html` with @ofq/metrics' renderer; returns its path (null when nothing was recorded). */
export async function renderRunReport(runDir: string, log: (l: string) => void = () => undefined): Promise<string | null> {
  if (!existsSync(join(runDir, 'meta.json'))) {
    log(`report: ${runDir} has no recorded metrics (meta.json); skipped`);
    return null;
  }
  return renderReportFile(runDir, { classes: readRunClasses(runDir) ?? undefined });
}
