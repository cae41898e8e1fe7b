// Installs @ofq/accel's faster kernels (ONNX Runtime matmuls) on the active wasm/cpu backend when the
// package loads, as the `ofq` trainer does; the example runs unchanged (stock kernels) without it.
export async function installAccelIfPresent(engine = 'auto'): Promise<string | null> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import('@ofq/accel')) as Record<string, unknown>;
  } catch {
    return null; // not installed: stock tfjs kernels
  }
  const install = mod.installAccel as ((o: { engine?: string }) => { engine: string; kernels: string[]; fallbackReason?: string }) | undefined;
  if (typeof install !== 'function') return null;
  const r = install({ engine });
  return `${r.engine}${r.kernels.length ? ` (${r.kernels.join(', ')})` : ''}${r.fallbackReason ? `; ${r.fallbackReason}` : ''}`;
}
