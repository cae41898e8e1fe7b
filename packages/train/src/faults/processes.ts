import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Child processes of the fault-injection suite: the real `ofq` CLI (from source, one node process, as
// `pnpm ofq` runs it) and the README's launchers, in their own process group like a terminal job.

const here = dirname(fileURLToPath(import.meta.url));

/** The workspace root (where `pnpm run main` and scripts/bootstrap.mjs live). */
export function workspaceRoot(): string {
  let dir = here;
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('fault suite: not inside the @ofq workspace');
    dir = up;
  }
  return dir;
}

export const BIN = join(here, '..', 'bin.ts');

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface Running {
  child: ChildProcess;
  /** Resolves when the process has exited. */
  done: Promise<Exit>;
  /** Resolves once stderr has shown a line matching `re`. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<void>;
}

function track(child: ChildProcess): Running {
  let stdout = '';
  let stderr = '';
  const waiters: Array<{ re: RegExp; resolve: () => void }> = [];
  const t0 = performance.now();
  child.stdout?.on('data', (d) => (stdout += d));
  child.stderr?.on('data', (d) => {
    stderr += d;
    for (const w of waiters.splice(0)) (w.re.test(stderr) ? w.resolve : () => waiters.push(w))();
  });
  const done = new Promise<Exit>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr, ms: performance.now() - t0 })),
  );
  return {
    child,
    done,
    waitFor: (re, timeoutMs = 60_000) =>
      new Promise<void>((resolve, reject) => {
        if (re.test(stderr)) return resolve();
        const timer = setTimeout(() => reject(new Error(`fault suite: no ${re} on stderr within ${timeoutMs} ms:\n${stderr}`)), timeoutMs);
        waiters.push({ re, resolve: () => (clearTimeout(timer), resolve()) });
        done.then(() => reject(new Error(`fault suite: exited before ${re}:\n${stderr}`)), () => undefined);
      }),
  };
}

/** `ofq <args>` from source in one node process; `env` adds variables (e.g. OFQ_FAULT). */
export function startCli(args: string[], env: Record<string, string> = {}): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@ofq/source', BIN, ...args], {
    cwd: workspaceRoot(),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return track(child);
}

/** A shell command in a new session and process group (pgid = the shell's pid), like a terminal job. */
export function startJob(command: string, env: Record<string, string> = {}): Running {
  // `; exit $?` keeps bash from exec'ing the command, so bash stays the session leader above it.
  const child = spawn('bash', ['-c', `${command}; exit $?`], {
    cwd: workspaceRoot(),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  return track(child);
}

/** Pids of the live processes in a process group (Linux /proc). */
export function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const s = readFileSync(`/proc/${name}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      if (Number(f[2]) === pgid && f[0] !== 'Z') out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Pids of the direct children of a process whose command line matches `re`. */
export function childrenMatching(ppid: number, re: RegExp): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const s = readFileSync(`/proc/${name}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      if (Number(f[1]) === ppid && re.test(readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' '))) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Waits until no process of the group is alive (true) or the timeout passes (false). */
export async function groupGone(pgid: number, timeoutMs = 20_000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (groupMembers(pgid).length === 0) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}
