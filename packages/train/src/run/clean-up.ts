// The end of a run releases what it holds (models, loaders, the lock) even when a step of the cleanup
// fails. When the run is already failing, a cleanup error is a consequence, not the cause: after a wasm
// abort every dispose into the dead module throws ("memory access out of bounds") and would hide it.

/**
 * Runs every step in order, each even if an earlier one threw. With `failing` the errors are dropped
 * (the caller's own error is the one to report); otherwise the first is thrown after all steps ran.
 */
export async function cleanUp(steps: Array<() => unknown>, failing: boolean): Promise<void> {
  const errors: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (e) {
      errors.push(e);
    }
  }
  if (errors.length > 0 && !failing) throw errors[0];
}
