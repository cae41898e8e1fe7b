import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { DiskWriteError } from '../errors.js';
import { faultPoint } from './fault-seam.js';

const DISK_ERRORS: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EIO: 'input/output error',
};

/** The errno code of a refused disk write (ENOSPC, EROFS, EACCES, …), or null for anything else. */
export function diskErrorCode(e: unknown): string | null {
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'string' && code in DISK_ERRORS ? code : null;
}

/** One line for a refused write: `cannot write <path>: no space left on device (ENOSPC); <intact>`. */
export function diskWriteError(e: unknown, fallbackPath: string, intact: string): DiskWriteError {
  const code = diskErrorCode(e)!;
  const path = (e as { path?: string }).path || fallbackPath;
  return new DiskWriteError(`cannot write ${path}: ${DISK_ERRORS[code]} (${code}); ${intact}`, e);
}

/** Writes a file and fsyncs it before returning (data on disk, not only in the page cache). */
export function writeFileDurable(path: string, data: Uint8Array | string): void {
  faultPoint('write', path);
  const fd = openSync(path, 'w');
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsyncs a directory, so the renames and creations inside it are durable. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsyncs an existing file (e.g. an append-only log before its size is recorded). */
export function fsyncFile(path: string): void {
  const fd = openSync(path, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Replaces a file atomically and durably: temp file in the same directory (written and fsynced),
 * rename over the target, fsync of the directory. A crash leaves the old or the new file. A refused
 * write (full disk, read-only, forbidden) removes the temp file and names the path.
 */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const dir = dirname(path);
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    mkdirSync(dir, { recursive: true });
    writeFileDurable(tmp, data);
    renameSync(tmp, path);
    fsyncDir(dir);
  } catch (e) {
    rmSync(tmp, { force: true });
    if (diskErrorCode(e)) throw diskWriteError(e, path, `the previous ${path} is intact`);
    throw e;
  }
}
