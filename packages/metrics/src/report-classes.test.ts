import { describe, expect, it } from 'vitest';
import { renderReport } from './report.js';
import { RUN_FORMAT, type RunData } from './run-format.js';

const RUN: RunData = {
  meta: {
    format: RUN_FORMAT,
    name: 'tiny',
    startedAt: '2026-12-01T00:00:00Z',
    layers: [],
    scales: [],
    boundaryRanges: [],
    oscillationThreshold: 0.005,
    momentum: 0.01,
    flipBand: 0.5,
    histogramBins: 8,
    aggregateEvery: 1,
    sampleSize: 0,
  },
  records: [],
};
const ASSETS = { uplotJs: '/* js */', uplotCss: '/* css */' };

describe('renderReport classes', () => {
  it('lists the class names by label index, escaped', () => {
    const html = renderReport(RUN, { ...ASSETS, classes: ['Ankle boot', 'T-shirt<top>'] });
    expect(html).toContain('Classes (2)');
    expect(html).toContain('<li><code>0</code> Ankle boot</li><li><code>1</code> T-shirt&lt;top&gt;</li>');
  });

  it('has no class list without classes', () => {
    expect(renderReport(RUN, ASSETS)).not.toContain('Classes (');
  });
});
