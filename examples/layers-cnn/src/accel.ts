// Installs @ofq/accel's kernels (fast matmuls, GEMM convolutions and their gradients) on the active
// wasm/cpu backend, as the `ofq` trainer does; the example runs with stock kernels without it.
export async function installAccelIfPresent(engine = 'auto'): Promise<string | null> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import('@ofq/accel')) as Record<string, unknown>;
  } catch {
    return null;
  }
  const install = mod.installAccel as ((o: { engine?: string }) => { engine: string; kernels: string[]; fallbackReason?: string }) | undefined;
  if (typeof install !== 'function') return null;
  const r = install({ engine });
  return `${r.engine}${r.fallbackReason ? `; ${r.fallbackReason}` : ''}`;
}
