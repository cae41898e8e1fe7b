import type { BackendChoice } from '@ofq/core';
import { setupRuntime, type RuntimeInfo } from '../runtime.js';
import { accelFlag, stringFlag, type ParsedCommandArgs } from './command.js';

/** Sets up tfjs from `--backend` and `--accel`/`--no-accel`. */
export function runtimeFromFlags(args: ParsedCommandArgs): Promise<RuntimeInfo> {
  return setupRuntime(stringFlag(args, 'backend', 'auto') as BackendChoice, accelFlag(args));
}
