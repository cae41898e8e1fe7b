// Test seam for the fault-injection suite: `OFQ_FAULT=<point>[@<n>]=<action>[,…]` makes the n-th
// (default first) pass through a named point kill the process (`kill`, SIGKILL: no cleanup runs) or
// throw the errno a full/read-only/forbidden disk gives (`ENOSPC`, `EROFS`, `EACCES`). Unset: no-op.

import { appendFileSync } from 'node:fs';

const passes = new Map<string, number>();

const ERRNO_TEXT: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
};

/** Marks a named point (e.g. `checkpoint:between-renames`); `path` is the file the point is about to write. */
export function faultPoint(point: string, path = ''): void {
  // OFQ_FAULT_TRACE=<file>: append each point passed (the suite counts the saves of a reference run).
  if (process.env.OFQ_FAULT_TRACE) appendFileSync(process.env.OFQ_FAULT_TRACE, `${point}\n`);
  const spec = process.env.OFQ_FAULT;
  if (!spec) return;
  const n = (passes.get(point) ?? 0) + 1;
  passes.set(point, n);
  for (const item of spec.split(',')) {
    const m = /^([^@=]+)(?:@(\d+))?=(\w+)$/.exec(item.trim());
    if (!m || m[1] !== point || Number(m[2] ?? 1) !== n) continue;
    const action = m[3]!;
    if (action === 'kill') process.kill(process.pid, 'SIGKILL');
    const text = ERRNO_TEXT[action] ?? 'injected fault';
    throw Object.assign(new Error(`${action}: ${text}, write '${path}'`), { code: action, syscall: 'write', path });
  }
}

/** Forgets the pass counts (tests that inject faults in-process more than once). */
export function resetFaultSeam(): void {
  passes.clear();
}
