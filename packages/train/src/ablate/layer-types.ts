// Layer types the ablation groups oscillation by: @ofq/metrics' `layerType` (q/k = the merged W_qk
// under QKR, the q and k blocks of qkv without it; v; proj; mlp; other), in display order.
import { layerType as metricsLayerType } from '@ofq/metrics';

export const LAYER_TYPES = ['q/k', 'v', 'proj', 'mlp', 'other'] as const;
export type LayerType = (typeof LAYER_TYPES)[number];

export const layerType = (name: string): LayerType => metricsLayerType(name);

/** Column heading: says what q/k means in each arm. */
export const layerTypeLabel = (t: LayerType) => (t === 'q/k' ? 'q/k (W_qk with QKR)' : t === 'mlp' ? 'MLP' : t);
