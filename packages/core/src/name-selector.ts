/**
 * Selects parameters or layers by name: a glob, a list of globs, a RegExp, or a predicate. Every @ofq API
 * that selects by name (applyStatsQ, CGA, the layers integration, metrics) gives globs this one meaning:
 * names are split into segments by `.` or `/`; `*` matches within one segment, `**` matches across
 * segments (any run of characters), `?` matches one character other than a separator; everything else is
 * literal. So `blocks.*.mlp.fc1.weight` matches every block's fc1 but not `blocks.0.x.mlp.fc1.weight`,
 * and `**\/kernel` matches every tfjs-layers kernel.
 */
export type NameSelector = string | RegExp | readonly (string | RegExp)[] | ((name: string) => boolean);

function globSource(glob: string): string {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (c === '*') re += '[^./]*';
    else if (c === '?') re += '[^./]';
    else re += c.replace(/[\\^$+.()|{}[\]]/g, '\\$&');
  }
  return `^${re}$`;
}

/** A name predicate from a selector (see `NameSelector`); `what` names the option in error messages. */
export function nameMatcher(selector: NameSelector, what = 'selector'): (name: string) => boolean {
  if (typeof selector === 'function') return selector;
  const list = typeof selector === 'string' || selector instanceof RegExp ? [selector] : selector;
  if (!Array.isArray(list) || list.some((g) => typeof g !== 'string' && !(g instanceof RegExp))) {
    throw new TypeError(`${what} must be a glob string, a RegExp, an array of them, or a (name) => boolean predicate`);
  }
  const res = list.map((g) => (typeof g === 'string' ? new RegExp(globSource(g)) : g));
  return (name) => res.some((r) => r.test(name));
}
