import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { RunDirError } from '../errors.js';

export const LOCK_FILE = 'run.lock';

/** True while a process with this pid exists (EPERM: it exists but belongs to someone else). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function holderOf(path: string): number | null {
  try {
    const pid = Number(JSON.parse(readFileSync(path, 'utf8')).pid);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null; // torn or foreign content: treated as stale
  }
}

export interface RunLock {
  readonly path: string;
  release(): void;
}

/**
 * Takes `<runDir>/run.lock` (O_EXCL create, holding this pid) for the life of a command that writes
 * into the run directory. A live holder → RunDirError with its pid; a lock left by a dead process is
 * taken over, with a line to `log`.
 */
export function acquireRunLock(runDir: string, what: string, log: (line: string) => void): RunLock {
  const path = join(runDir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = holderOf(path);
      if (pid !== null && alive(pid)) {
        throw new RunDirError(`${runDir} is in use by process ${pid} (${path}); wait for it to finish or stop it`, 'E_RUN_LOCKED');
      }
      log(`taking over the stale lock ${path}${pid ? ` of process ${pid}, which is no longer running` : ''}`);
      rmSync(path, { force: true });
      continue;
    }
    writeSync(fd, JSON.stringify({ pid: process.pid, command: what, since: new Date().toISOString() }));
    closeSync(fd);
    let released = false;
    return {
      path,
      release() {
        if (released) return;
        released = true;
        if (holderOf(path) === process.pid) rmSync(path, { force: true });
      },
    };
  }
  throw new RunDirError(`could not take the lock ${path}: another process keeps re-creating it`, 'E_RUN_LOCKED');
}
