export { applyOFQ, restoreOFQ, type OFQHandle, type OFQLayer, type OFQStepValues } from './apply-ofq.js';
export { loadOFQModel, type LoadedOFQModel } from './load-ofq-model.js';
export { cgaForOFQ, type OFQCGAOptions } from './ofq-cga.js';
export { OFQMetricsCallback, type OFQMetricsOptions, type OFQMetricsRecord, type OFQLayerStats } from './metrics-callback.js';
export { ChannelViewQuantizer } from './channel-view-quantizer.js';
export { QUANTIZABLE_KERNELS, type LayerMatcher, type OFQLayerLike } from './layer-select.js';
export { OFQ_METADATA_KEY, OFQ_METADATA_FORMAT, type OFQMetadata, type OFQLayerRecord, type OFQStateRecord } from './ofq-metadata.js';
export type { ApplyOFQOptions, OFQOverride, WeightMethod } from './ofq-plan.js';
export type { OFQSummary, OFQLayerInfo } from './ofq-summary.js';
// The kernels-only path of the same integration (re-exported for one import).
export { applyStatsQ, type ApplyStatsQOptions, type StatsQHandle } from '@ofq/statsq';
