export { statsScale, statsPreRound, statsLevels, STATSQ_MIN_SCALE, STATSQ_CLIP_HIGH, type StatsQOptions } from './stats-scale.js';
export { statsQuantize } from './stats-quantize.js';
export { statsCodes } from './stats-codes.js';
export { StatsQuantizer } from './stats-quantizer.js';
export {
  applyStatsQ,
  quantizedWeightBytes,
  type ApplyStatsQOptions,
  type LayerMatcher,
  type LayerLike,
  type StatsQHandle,
  type StatsQLayerInfo,
  type StatsQSummary,
} from './apply-stats-q.js';
