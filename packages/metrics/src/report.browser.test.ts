// Renders the report of a short real run in headless Chromium (Debian's, driven by playwright-core;
// no browser download) and checks that every plot drew and the page logged no errors.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_BACKENDS, useBackend } from '@ofq/core/testing';
import { runTinyTraining } from './__fixtures__/tiny-run.js';
import { renderReportFile } from './report.js';

const CHROMIUM = process.env.OFQ_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '.artifacts');

describe('HTML report in headless Chromium', () => {
  let dir = '';
  beforeAll(async () => {
    await useBackend(TEST_BACKENDS.includes('wasm') ? 'wasm' : TEST_BACKENDS[0]);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ofq-report-'));
    runTinyTraining(dir, { steps: 120, cgaFrom: 80 }); // 80 QAT steps, then 40 of CGA-style annealing
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('draws every plot with no console errors and saves a screenshot', async () => {
    if (!fs.existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium not found at ${CHROMIUM}. This test needs a system Chromium (no browser is downloaded): ` +
          `install it with \`apt-get update && apt-get install -y chromium\` (CI does), or point OFQ_CHROMIUM at a Chromium binary.`,
      );
    }
    const out = renderReportFile(dir);
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      const problems: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`console.${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('request', (r) => {
        if (!r.url().startsWith('file:')) requests.push(r.url());
      });
      await page.goto(`file://${out}`);
      await page.waitForSelector('body[data-rendered]');
      const charts = await page.evaluate(() => {
        return Array.from(document.querySelectorAll('.chart')).map((el) => {
          const canvas = el.querySelector('canvas');
          let painted = 0;
          if (canvas && canvas.width > 0 && canvas.height > 0) {
            const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
            for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) painted++;
          }
          return { id: el.id, width: canvas?.width ?? 0, height: canvas?.height ?? 0, painted };
        });
      });
      expect(charts.length).toBeGreaterThanOrEqual(12);
      for (const c of charts) {
        expect(c.width, c.id).toBeGreaterThan(0);
        expect(c.painted, `${c.id} drew nothing`).toBeGreaterThan(200);
      }
      expect(await page.locator('.tablewrap table tbody tr').count()).toBe(2);
      expect(problems).toEqual([]);
      expect(requests).toEqual([]);
      fs.mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, 'report.png'), fullPage: true });
      fs.copyFileSync(out, path.join(ARTIFACTS, 'report.html'));
    } finally {
      await browser.close();
    }
  });
});
