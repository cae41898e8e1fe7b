// Opens the built demo in Debian's headless Chromium (playwright-core, no browser download): no console
// errors, the strip's predictions equal Node's for the same packed file, drawing gives a prediction,
// and a screenshot is saved under .artifacts/.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@ofq/core/testing';
import { loadPackedModelSync } from '@ofq/runtime';
import { SIDE, normalise, parseStrip } from './strip.js';

const CHROMIUM = process.env.OFQ_CHROMIUM ?? '/usr/bin/chromium';
const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.join(HERE, '..');
const ARTIFACTS = path.join(ROOT, '.artifacts');

/** Node's probabilities for the strip, with the same file, preprocessing and backend. */
function nodeStrip(backendProbs: (x: Float32Array) => number[]): number[][] {
  const strip = parseStrip(new Uint8Array(fs.readFileSync(path.join(ROOT, 'public', 'strip.bin'))));
  return strip.images.map((im) => backendProbs(normalise(im, 0.1307, 0.3081)));
}

describe('browser demo in headless Chromium', () => {
  let server: Server;
  let url = '';
  beforeAll(async () => {
    const { build } = await import(path.join(ROOT, 'build.mjs'));
    const { serve } = await import(path.join(ROOT, 'serve.mjs'));
    const dist = await build(path.join(ROOT, 'dist'));
    server = await serve(dist, 0);
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  });
  afterAll(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  it('classifies the strip as Node does, draws, and logs no error', async () => {
    if (!fs.existsSync(CHROMIUM)) {
      throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's (\`apt-get install -y chromium\`) or set OFQ_CHROMIUM; no browser is downloaded.`);
    }
    await useBackend('wasm');
    const bytes = new Uint8Array(fs.readFileSync(path.join(ROOT, 'public', 'model.ofq')));
    const model = loadPackedModelSync(bytes);
    const input = model.file.input!;
    expect(input.mean).toEqual([0.1307]);
    const want = nodeStrip((x) => tf.tidy(() => Array.from(tf.softmax(model.predict(tf.tensor4d(x, [1, SIDE, SIDE, 1]))).dataSync())));
    model.dispose();

    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run', '--disable-component-update'] });
    try {
      for (const query of ['?backend=wasm', '']) {
        const page = await browser.newPage({ viewport: { width: 1000, height: 760 } });
        const errors: string[] = [];
        page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
        page.on('pageerror', (e) => errors.push(e.message));
        await page.goto(url + query);
        await page.waitForSelector('body[data-ready]', { timeout: 60_000 });
        const demo = await page.evaluate(() => window.ofqDemo!);
        expect(errors).toEqual([]);
        if (query) {
          // Same wasm kernels as Node: same predictions, probabilities to float32 precision.
          expect(demo.backend).toBe('wasm');
          expect(demo.strip.predictions).toEqual(want.map((p) => p.indexOf(Math.max(...p))));
          demo.strip.probabilities.forEach((p, i) => p.forEach((v, c) => expect(Math.abs(v - want[i][c])).toBeLessThan(1e-6)));
        } else {
          expect(['webgl', 'wasm', 'cpu']).toContain(demo.backend);
          expect(demo.strip.predictions.length).toBe(16);
        }
        expect(demo.packedBytes).toBe(bytes.byteLength);
        expect(demo.perImageMs).toBeGreaterThan(0);
        // Draw a "1": a vertical stroke.
        const pad = (await page.$('#pad'))!.boundingBox();
        const box = (await pad)!;
        await page.mouse.move(box.x + 140, box.y + 50);
        await page.mouse.down();
        for (let y = 50; y <= 230; y += 10) await page.mouse.move(box.x + 142, box.y + y);
        await page.mouse.up();
        await page.waitForSelector('body[data-drawn]');
        const drawn = await page.evaluate(() => window.ofqDemo!.drawn!);
        expect(drawn.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
        expect(await page.textContent('#prediction')).toBe(String(drawn.prediction));
        fs.mkdirSync(ARTIFACTS, { recursive: true });
        await page.screenshot({ path: path.join(ARTIFACTS, `demo${query ? '-wasm' : ''}.png`), fullPage: true });
        expect(errors).toEqual([]);
        await page.close();
      }
    } finally {
      await browser.close();
    }
  });
});
