import { OfqError } from '@ofq/core';

// User errors of @ofq/train: the CLI prints their message without a stack (told apart by class).

/** Bad command line: unknown flag, missing value, stray argument. */
export class UsageError extends OfqError {
  constructor(message: string) {
    super(message, { code: 'E_USAGE' });
  }
}

/** A recipe that cannot be read or does not validate. */
export class RecipeError extends OfqError {
  constructor(message: string) {
    super(message, { code: 'E_RECIPE' });
  }
}

/** Data files that are missing, truncated or inconsistent with the recipe. */
export class DataError extends OfqError {
  constructor(message: string) {
    super(message, { code: 'E_DATA' });
  }
}

/** The recipe's data or weights are not on disk. */
export class MissingDataError extends OfqError {
  constructor(message: string) {
    super(message, { code: 'E_MISSING_DATA' });
  }
}

/** A checkpoint that is missing, damaged, non-finite or saved under another config. */
export class CheckpointError extends OfqError {
  constructor(message: string) {
    super(message, { code: 'E_CHECKPOINT' });
  }
}

/** A run directory that cannot be used: already holds a run, locked by another process, edited config. */
export class RunDirError extends OfqError {
  constructor(message: string, code = 'E_RUN_DIR') {
    super(message, { code });
  }
}

/** A write the disk refused (ENOSPC, EROFS, EACCES, …); names the path and what is still intact. */
export class DiskWriteError extends OfqError {
  constructor(message: string, cause: unknown) {
    super(message, { code: 'E_DISK_WRITE', cause });
  }
}

/** The loss became NaN/Inf; the step was not applied (CLI exit status 3). */
export class NonFiniteLossError extends OfqError {
  constructor(message: string) {
    super(message, { code: 'E_NON_FINITE_LOSS' });
  }
}

/** Training stopped on request (Ctrl-C, a lost launcher) after saving a checkpoint (exit status 130). */
export class InterruptedError extends OfqError {
  /** The run directory to pass to `--resume` (set by the pipeline). */
  runDir?: string;
  constructor(message: string) {
    super(message, { code: 'E_INTERRUPTED' });
  }
}

/**
 * tfjs-backend-wasm aborted (its heap holds at most 4 GiB; a full heap aborts the module in malloc). The
 * module is dead, so the process cannot go on; the message names the batch size to lower.
 */
export class WasmHeapError extends OfqError {
  constructor(message: string, cause: unknown) {
    super(message, { code: 'E_WASM_HEAP', cause });
  }
}
