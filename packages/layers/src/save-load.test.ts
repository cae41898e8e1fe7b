import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { isOfqError } from '@ofq/core';
import { OFQ_METADATA_KEY, applyOFQ, loadOFQModel, restoreOFQ } from './index.js';
import { sameBits, tinyConvNet, tinyData } from './test-models.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

async function saveToMemory(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      saved = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  // Through JSON, as a model.json file would carry it.
  const json = JSON.parse(JSON.stringify({ modelTopology: saved!.modelTopology, weightSpecs: saved!.weightSpecs, userDefinedMetadata: saved!.userDefinedMetadata }));
  return { ...json, weightData: saved!.weightData };
}

describe('save / load', () => {
  it('model.save + loadOFQModel: bit-identical outputs, and QAT continues (steps train)', async () => {
    const model = tinyConvNet();
    const { x, y } = tinyData(16);
    const h = applyOFQ(model, { weightBits: 2, actBits: 3, sample: x, overrides: [{ layers: '<first>', weightBits: 8, actBits: 8 }] });
    model.compile({ optimizer: tf.train.sgd(0.3), loss: 'categoricalCrossentropy' });
    await model.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0 }); // steps move away from their initial values
    const artifacts = await saveToMemory(model);
    expect((artifacts.userDefinedMetadata as Record<string, unknown>)[OFQ_METADATA_KEY]).toEqual(h.toMetadata());

    const { model: loaded, ofq } = await loadOFQModel(tf.io.fromMemory(artifacts));
    expect(ofq.layers.map((l) => [l.name, l.weightBits, l.actBits])).toEqual(h.layers.map((l) => [l.name, l.weightBits, l.actBits]));
    expect(ofq.stepValues()).toEqual(h.stepValues());
    const a = model.predict(x) as tf.Tensor;
    const b = loaded.predict(x) as tf.Tensor;
    expect(sameBits(a, b)).toBe(true);

    loaded.compile({ optimizer: tf.train.sgd(0.3), loss: 'categoricalCrossentropy' });
    const before = ofq.stepValues().act;
    await loaded.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0 });
    const after = ofq.stepValues().act;
    expect(Object.keys(after).every((k) => after[k] !== before[k])).toBe(true);

    tf.dispose([a, b, x, y]);
    h.dispose();
    ofq.dispose();
    model.dispose();
    loaded.dispose();
  });

  it('a plain tf.loadLayersModel reads the same files as the float model; restoreOFQ re-applies it later', async () => {
    const model = tinyConvNet();
    const { x } = tinyData(4);
    const h = applyOFQ(model, { weightBits: 4, actBits: 4, sample: x, method: 'lsq' });
    const quantOut = model.predict(x) as tf.Tensor;
    const artifacts = await saveToMemory(model);
    const plain = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    h.remove();
    expect(model.getUserDefinedMetadata()).toEqual({}); // no stale record for a later save of the float model
    expect(() => restoreOFQ(model)).toThrow(/userDefinedMetadata\.ofq is missing/);
    const floatOut = model.predict(x) as tf.Tensor;
    const plainOut = plain.predict(x) as tf.Tensor;
    expect(sameBits(floatOut, plainOut)).toBe(true);
    const again = restoreOFQ(plain);
    expect(again.layers.map((l) => l.weightQuantizer.kind)).toEqual(['lsq', 'lsq', 'lsq']);
    const restoredOut = plain.predict(x) as tf.Tensor;
    expect(sameBits(quantOut, restoredOut)).toBe(true);
    tf.dispose([quantOut, floatOut, plainOut, restoredOut, x]);
    for (const d of [h, again]) d.dispose();
    model.dispose();
    plain.dispose();
  });

  it('names the problem when the record is missing or damaged', async () => {
    const model = tinyConvNet();
    const fail = async (artifacts: tf.io.ModelArtifacts) => {
      try {
        await loadOFQModel(tf.io.fromMemory(artifacts));
      } catch (e) {
        expect(isOfqError(e)).toBe(true);
        return (e as Error).message;
      }
      return 'no error';
    };
    const plain = await saveToMemory(model);
    expect(await fail(plain)).toMatch(/userDefinedMetadata\.ofq is missing \(was the model saved after applyOFQ\?\)/);
    const h = applyOFQ(model, { weightBits: 2 });
    const good = await saveToMemory(model);
    const meta = JSON.parse(JSON.stringify(good.userDefinedMetadata));
    meta.ofq.layers[0].name = 'nope';
    expect(await fail({ ...good, userDefinedMetadata: meta })).toMatch(/no quantizable layer named nope/);
    meta.ofq.format = 'ofq-layers/9';
    expect(await fail({ ...good, userDefinedMetadata: meta })).toMatch(/format "ofq-layers\/9"/);
    h.dispose();
    model.dispose();
  });
});
