export { installAccel, uninstallAccel, accelStatus, type AccelEngine, type AccelOptions, type AccelReport } from './install.js';
export { AccelEngineUnavailableError, ORT_PINNED_VERSION } from './ort-binding.js';
export { matMulGeometry, type MatMulGeometry } from './matmul-shape.js';
export { describeAccelReport } from './describe-report.js';
