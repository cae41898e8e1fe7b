// @ofq/train: the OFQ training pipeline (docs/algorithm.md §7) as a library; the `ofq` CLI is src/cli.ts (bin: src/bin.ts).
export {
  UsageError,
  RecipeError,
  DataError,
  MissingDataError,
  RunDirError,
  DiskWriteError,
  NonFiniteLossError,
  InterruptedError,
  WasmHeapError,
} from './errors.js';
export { parseIdx, readIdxFile, type IdxArray } from './data/idx.js';
export { Rng, type RngState } from './data/rng.js';
export {
  loadMnist,
  loadFashionMnist,
  loadIdxDirectory,
  embeddedMnistDir,
  splitValidation,
  takeFirst,
  selectRows,
  NORMALISATION,
  FASHION_MNIST_DIR,
  type ImageDataset,
  type TrainTest,
} from './data/datasets.js';
export { BatchLoader, prefetch, type Batch, type BatchOptions } from './data/batches.js';
export { crossEntropy, softCrossEntropy, kdLoss, supervisedLoss } from './loss.js';
export { AdamW, type AdamWOptions, type AdamWState, type NamedParam } from './optim/adamw.js';
export { lrAt, lrForStep, type LrSchedule } from './optim/schedule.js';
export { GradAccumulator } from './optim/accumulate.js';
export { RecipeSchema, type Recipe, type StageConfig } from './recipe/schema.js';
export { loadRecipe, listRecipes, validateRecipe, applyOverrides, readRecipeSource, recipesDir } from './recipe/load.js';
export {
  saveCheckpoint,
  loadCheckpoint,
  disposeCheckpoint,
  recoverCheckpoint,
  CheckpointError,
  type Checkpoint,
  type TrainPosition,
} from './run/checkpoint.js';
export { runStage, type StageOptions, type StageResult, type RunControl, type StageHooks, type StepInfo } from './run/stage.js';
export { train, checkInputs, type TrainOptions, type TrainSummary } from './run/pipeline.js';
export { openRunDir, type RunDir } from './run/run-dir.js';
export { loadData, type LoadedData } from './run/data.js';
export { top1 } from './run/evaluate.js';
export { evaluateRun, type EvalResult } from './run/evaluate-run.js';
export { renderRunReport } from './run/report.js';
export { makeCGAStepper } from './run/cga-stepper.js';
export { SilentProgress, type ProgressSink } from './run/progress.js';
export { setupRuntime, installAccelIfPresent, type RuntimeInfo } from './runtime.js';
export { exportRun, writeRunModel, formatPackedSize, RUN_MODEL_FILE, type PackedRunModel } from './run/export-run.js';
export { predictPacked, type PredictPackedOptions, type PredictPackedResult } from './run/predict-packed.js';
export { ablate, ABLATION_JSON, ABLATION_HTML, type AblateOptions, type AblateResult } from './ablate/run-ablation.js';
export { parseVariant, parseVariants, variantRecipe, type Variant } from './ablate/variants.js';
export { collectAblation, readAblation, type AblationData, type RunEntry, type Comparison } from './ablate/collect.js';
export { pairedDifference, spreadOf, tQuantile975, type PairedDifference, type Spread } from './ablate/paired-stats.js';
export { renderAblationReport } from './ablate/ablation-report.js';
export { AblationError } from './ablate/errors.js';
