export { TrackOscillation, type TrackOscillationOptions, type TrackOscillationCallOptions } from './track-oscillation.js';
export {
  DEFAULT_BOUNDARY_RANGES,
  GradientFlipCounter,
  boundaryOccupancy,
  boundaryOccupancyTensor,
  sqnrTensor,
  thresholdDistance,
  weightSQNR,
  weightThresholdDistance,
} from './quant-metrics.js';
export { MetricsRecorder, sampleIndices, type RecorderOptions, type StepInput, type TrackedLayer, type TrackedScale } from './recorder.js';
export {
  RUN_FORMAT,
  META_FILE,
  METRICS_FILE,
  parseRecords,
  readRun,
  type RunMeta,
  type RunLayerMeta,
  type RunRecord,
  type TrainRecord,
  type EvalRecord,
  type LayerStepStats,
  type RunData,
} from './run-format.js';
export { renderReport, renderReportFile, type RenderReportOptions } from './report.js';
export { buildReportModel, layerType, type ChartSpec, type ChartSeries, type ReportSummary, type LayerRow } from './report-charts.js';
