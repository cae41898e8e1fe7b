// Installs @ofq/accel's faster kernels (ONNX Runtime matmuls) on the active wasm/cpu backend, as the
// `ofq` trainer does, and describes the engine in one line (@ofq/accel's describeAccelReport).
import { describeAccelReport, installAccel, type AccelEngine } from '@ofq/accel';

export async function installAccelIfPresent(engine = 'auto'): Promise<string | null> {
  return describeAccelReport(installAccel({ engine: engine as AccelEngine }));
}
