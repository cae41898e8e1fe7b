export { statsScale, statsPreRound, statsLevels, STATSQ_MIN_SCALE, STATSQ_CLIP_HIGH, type StatsQOptions } from './statsScale.js';
export { statsQuantize } from './statsQuantize.js';
export { statsCodes } from './statsCodes.js';
export { StatsQuantizer } from './StatsQuantizer.js';
export {
  applyStatsQ,
  quantizedWeightBytes,
  type ApplyStatsQOptions,
  type LayerMatcher,
  type LayerLike,
  type StatsQHandle,
  type StatsQLayerInfo,
  type StatsQSummary,
} from './applyStatsQ.js';
