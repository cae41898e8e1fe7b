import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { LayerQuant } from './layer-quant.js';

export interface OFQLayerInfo {
  name: string;
  className: string;
  method: string;
  weightBits: number;
  actBits: number | null;
  kernelShape: number[];
  /** Kernel weights quantized in this layer. */
  weights: number;
  /** LSQ input step now (null for a float input). */
  actStep: number | null;
}

export interface OFQSummary {
  layers: OFQLayerInfo[];
  quantizedWeights: number;
  /** Every weight of the model, for the quantized fraction. */
  totalWeights: number;
  /** Quantizable layers the filters left in float. */
  skipped: string[];
  toString(): string;
}

const bitsLabel = (b: number | null) => (b === null ? 'float' : `${b}-bit`);

export function formatSummary(model: LayersModel, quants: readonly LayerQuant[], skipped: string[], active: boolean): OFQSummary {
  const layers: OFQLayerInfo[] = quants.map((q) => {
    const shape = q.kernelWeight.shape.slice();
    const step = q.actQuantizer?.step;
    return {
      name: q.name,
      className: q.layer.getClassName(),
      method: q.method,
      weightBits: q.weightBits,
      actBits: q.actBits,
      kernelShape: shape,
      weights: shape.reduce((a, b) => a * b, 1),
      actStep: step ? step.dataSync()[0] : null,
    };
  });
  const quantizedWeights = layers.reduce((a, l) => a + l.weights, 0);
  const totalWeights = model.weights.reduce((a, w) => a + w.shape.reduce((x: number, y) => x * (y ?? 1), 1), 0);
  return {
    layers,
    quantizedWeights,
    totalWeights,
    skipped: skipped.slice(),
    toString() {
      const pct = totalWeights > 0 ? ((100 * quantizedWeights) / totalWeights).toFixed(1) : '0';
      const rows = layers.map(
        (l) =>
          `  ${l.name} (${l.className}) kernel [${l.kernelShape.join(', ')}]: W ${l.method} ${l.weightBits}-bit, ` +
          `input ${bitsLabel(l.actBits)}${l.actStep !== null ? ` (LSQ step ${l.actStep.toPrecision(4)})` : ''}`,
      );
      return [
        `OFQ${active ? '' : ' (removed)'}: ${layers.length} layer(s), ${quantizedWeights} of ${totalWeights} weights quantized (${pct}%)`,
        ...rows,
        ...(skipped.length ? [`  left in float: ${skipped.join(', ')}`] : []),
      ].join('\n');
    },
  };
}
