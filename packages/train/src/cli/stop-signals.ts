import { existsSync, readFileSync } from 'node:fs';
import type { RunControl } from '../run/stage.js';

/** Parent pid and session id of a process from /proc (Linux); null elsewhere or when it is gone. */
function procStat(pid: number): { ppid: number; sid: number } | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), sid: Number(f[3]) };
  } catch {
    return null;
  }
}

/**
 * The launchers above this process (npm/pnpm, their shells, scripts/bootstrap.mjs): its ancestors up
 * to, not including, the session leader (the terminal's shell) or init. If one of them dies (kill -9),
 * the trainer is orphaned and stops instead of writing on unattended.
 */
export function launcherPids(): number[] {
  const out: number[] = [];
  if (!existsSync('/proc/self/stat')) return out;
  let pid = process.ppid;
  for (let i = 0; i < 32 && pid > 1; i++) {
    const st = procStat(pid);
    if (!st || st.sid === pid) break;
    out.push(pid);
    pid = st.ppid;
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface StopHandlersOptions {
  control: RunControl;
  err: (line: string) => void;
  /** Milliseconds within which repeated signals count as one (a terminal Ctrl-C reaches every launcher). */
  debounceMs?: number;
}

/**
 * Ctrl-C (SIGINT), SIGTERM and SIGHUP request a graceful stop: the stage finishes its step, saves
 * `<stage>/last` and the run ends with InterruptedError. A second Ctrl-C (after `debounceMs`) quits at
 * once. A launcher that died (see launcherPids) requests the same graceful stop. Returns the uninstaller.
 */
export function installStopHandlers(o: StopHandlersOptions): () => void {
  const debounce = o.debounceMs ?? 1000;
  let first = 0;
  const request = (reason: string) => {
    if (o.control.stopRequested) return;
    o.control.stopRequested = true;
    o.control.stopReason = reason;
    o.err(`\nstopping after this step and saving a checkpoint (${reason}; Ctrl-C again to quit at once)`);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    const now = Date.now();
    if (o.control.stopRequested && signal === 'SIGINT' && now - first > debounce) process.exit(130);
    if (!first) first = now;
    request(signal === 'SIGINT' ? 'Ctrl-C' : signal);
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  const parent = process.ppid;
  const launchers = launcherPids();
  const watch = setInterval(() => {
    if (process.ppid !== parent || launchers.some((p) => !alive(p))) request('the launcher exited');
  }, 500);
  watch.unref();
  return () => {
    clearInterval(watch);
    for (const s of signals) process.off(s, onSignal);
  };
}
