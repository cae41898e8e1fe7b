import { nameMatcher, type NameSelector } from '@ofq/core';

/** Which parameters CGA freezes: glob pattern(s) over display names (the @ofq glob meaning), a RegExp, or a predicate. */
export type ParamSelector = NameSelector;

/**
 * The reference's selection for DeiT with QKR (docs/algorithm.md §6.2): the v, proj, fc1 and fc2 weights
 * of every block. q/k are excluded (see `includeQK`), as are biases, norms, embeddings and the heads.
 * The one source of this default: the trainer and the metrics use it too.
 */
export const DEFAULT_CGA_PATTERNS: readonly string[] = [
  'blocks.*.attn.v.weight',
  'blocks.*.attn.proj.weight',
  'blocks.*.mlp.fc1.weight',
  'blocks.*.mlp.fc2.weight',
];

/** A name predicate from a selector (default: DEFAULT_CGA_PATTERNS). */
export function toPredicate(select: ParamSelector | undefined): (name: string) => boolean {
  return nameMatcher(select === undefined ? DEFAULT_CGA_PATTERNS : select, 'CGA select');
}
