// Which part of a block a tracked weight belongs to, from its recorded name.

/** Layer types the ablation report groups oscillation by (the paper's q/k, W_qk, v, proj, MLP). */
export const LAYER_TYPES = ['W_qk', 'q/k', 'v', 'qkv', 'proj', 'MLP', 'other'] as const;
export type LayerType = (typeof LAYER_TYPES)[number];

/**
 * `blocks.0.mlp.fc1.weight` → MLP, `…attn.proj…` → proj, a merged `…qk…`/`W_qk` → W_qk, a q or k block
 * of the fused qkv (`…qkv…:q`, `…attn.q…`) → q/k, v → v, the fused qkv as a whole → qkv.
 */
export function layerType(name: string): LayerType {
  const tokens = name.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
  const has = (...t: string[]) => t.some((x) => tokens.includes(x));
  if (has('fc1', 'fc2', 'mlp')) return 'MLP';
  if (has('proj')) return 'proj';
  if (has('qk', 'wqk') || /w_?qk/i.test(name)) return 'W_qk';
  if (has('q', 'k', 'query', 'key')) return 'q/k';
  if (has('v', 'value')) return 'v';
  if (has('qkv')) return 'qkv';
  return 'other';
}
