// tfjs-backend-wasm addresses at most 4 GiB; a tensor that does not fit aborts the module inside malloc
// (`RuntimeError: Aborted()`, an emscripten stack). When the abort unwinds through a tf.tidy, the tidy's
// cleanup calls into the dead module and that error replaces it (`RuntimeError: memory access out of
// bounds`). Either is, at the sizes of a run, a size the user chose, so it is reported as a WasmHeapError
// naming the phase and the batch field to lower.
import type { Recipe } from '../recipe/schema.js';
import { WasmHeapError } from '../errors.js';
import type { PhaseTimer } from './phase-timer.js';

/** The pipeline's phases in order (the keys of PhaseTimer.seconds and summary.json's timings). */
const PHASES = ['setup', 'teacher', 'testFp', 'init', 'stage1', 'stage2', 'testQuant', 'report'] as const;

/** The phase in progress: the first one the timer has not closed. */
export function phaseInProgress(timer: PhaseTimer): string {
  return PHASES.find((p) => !(p in timer.seconds)) ?? 'report';
}

/** True for the errors tfjs-backend-wasm throws when its module aborts (see above). */
function isWasmAbort(e: unknown): e is WebAssembly.RuntimeError {
  return e instanceof WebAssembly.RuntimeError && /^(Aborted\(|memory access out of bounds)/.test(e.message);
}

function micro(field: string, s: { batchSize: number; globalBatch?: number }): string {
  const keep = s.globalBatch !== undefined ? `${field}.globalBatch ${s.globalBatch} stays, by gradient accumulation` : `set ${field}.globalBatch=${s.batchSize} to keep the global batch`;
  return `${field}.batchSize (now ${s.batchSize}; ${keep})`;
}

function advice(recipe: Recipe, phase: string): string {
  const ev = `eval.batchSize (now ${recipe.eval.batchSize})`;
  switch (phase) {
    case 'setup':
    case 'teacher':
      return recipe.teacher.train ? `Lower ${micro('teacher.train', recipe.teacher.train)} or ${ev}` : `The FP model does not fit: use a smaller model or --backend tensorflow`;
    case 'init':
      return `Lower quant.initBatch (now ${recipe.quant.initBatch})`;
    case 'stage1':
      return `Lower ${micro('stage1', recipe.stage1)}, or ${ev} for the validation passes`;
    case 'stage2': {
      const s2 = recipe.stage2.batchSize === undefined ? recipe.stage1 : { batchSize: recipe.stage2.batchSize, globalBatch: recipe.stage2.globalBatch };
      return `Lower ${micro(recipe.stage2.batchSize === undefined ? 'stage1' : 'stage2', s2)} (stage 2 uses ${recipe.stage2.batchSize === undefined ? "stage 1's" : 'its own'}), or ${ev}`;
    }
    default:
      return `Lower ${ev}`;
  }
}

/** `e` as a WasmHeapError whose message is `the wasm backend aborted during <phase> (…): its heap … is full<rest>`, when it is a wasm abort; else `e`. */
function heapError(e: unknown, phase: string, rest: string): unknown {
  if (!isWasmAbort(e)) return e;
  return new WasmHeapError(`the wasm backend aborted during ${phase} (RuntimeError: ${e.message.split('.')[0]}): its heap, at most 4 GiB, is full${rest}`, e);
}

/** `e` as a WasmHeapError when it is a wasm abort during `phase` of `recipe`'s run, else `e` itself. */
export function asWasmHeapError(e: unknown, recipe: Recipe, phase: string): unknown {
  return heapError(e, phase,
    `, and the aborted module cannot continue. ${advice(recipe, phase)}. Checkpoints already saved are intact, but --resume keeps ` +
      `the recipe: start a new run with the smaller size, or train on --backend tensorflow`);
}

/** `e` as a WasmHeapError when it is a wasm abort while `ofq eval` ran at `batchSize`, else `e` itself. */
export function asEvalWasmHeapError(e: unknown, batchSize: number): unknown {
  return heapError(e, 'eval', ` at eval batches of ${batchSize}. Pass a smaller --batch-size (the run's checkpoints are untouched)`);
}
