/** Which parameters CGA freezes: glob pattern(s) over display names, or a predicate. */
export type ParamSelector = string | readonly string[] | ((name: string) => boolean);

/**
 * The reference's selection for DeiT with QKR (spec §6.2): the v, proj, fc1 and fc2 weights of every
 * block. q/k are excluded (see `includeQK`), as are biases, norms, embeddings and the heads.
 */
export const DEFAULT_CGA_PATTERNS: readonly string[] = [
  'blocks.*.attn.v.weight',
  'blocks.*.attn.proj.weight',
  'blocks.*.mlp.fc1.weight',
  'blocks.*.mlp.fc2.weight',
];

/**
 * Glob → RegExp over dotted/slashed names: `*` matches within one segment (no `.` or `/`), `**` any run
 * of characters, `?` one character; everything else is literal.
 */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (c === '*') re += '[^./]*';
    else if (c === '?') re += '.';
    else re += c.replace(/[\\^$+.()|{}[\]]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** A name predicate from a selector (default: DEFAULT_CGA_PATTERNS). */
export function toPredicate(select: ParamSelector | undefined): (name: string) => boolean {
  if (typeof select === 'function') return select;
  const globs = select === undefined ? DEFAULT_CGA_PATTERNS : typeof select === 'string' ? [select] : select;
  if (!Array.isArray(globs) || globs.some((g) => typeof g !== 'string')) {
    throw new TypeError('CGA select must be a glob string, an array of globs, or a (name) => boolean predicate');
  }
  const res = globs.map(globToRegExp);
  return (name) => res.some((r) => r.test(name));
}
