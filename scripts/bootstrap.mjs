#!/usr/bin/env node
// Makes a fresh machine with only Node 20 and npm ready: pins pnpm, installs the workspace from the
// lockfile (only when it changed), and, when allowed, the Debian Chromium the report's browser test uses.
// Idempotent and quick when everything is already there.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PNPM_VERSION = '12.4.2';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const log = (msg) => process.stderr.write(`[bootstrap] ${msg}\n`);

const major = Number(process.versions.node.split('.')[0]);
if (major < 20) {
  log(`Node ${process.versions.node} is too old: @ofq needs Node 20 or newer.`);
  process.exit(1);
}

function pnpmVersion(bin) {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

function ensurePnpm() {
  if (pnpmVersion('pnpm') === PNPM_VERSION) return 'pnpm';
  const local = path.join(root, '.tmp', 'pnpm', 'node_modules', '.bin', 'pnpm');
  if (fs.existsSync(local) && pnpmVersion(local) === PNPM_VERSION) return local;
  log(`installing pnpm@${PNPM_VERSION} (corepack's signature check fails on some mirrors, so npm installs it)`);
  const global = spawnSync('npm', ['install', '-g', `pnpm@${PNPM_VERSION}`], { stdio: 'inherit' });
  if (global.status === 0 && pnpmVersion('pnpm') === PNPM_VERSION) return 'pnpm';
  log('global install not possible here; installing pnpm into .tmp/pnpm instead');
  execFileSync('npm', ['install', '--prefix', path.join(root, '.tmp', 'pnpm'), `pnpm@${PNPM_VERSION}`], { stdio: 'inherit' });
  return local;
}

function ensureDependencies(pnpm) {
  const lock = fs.readFileSync(path.join(root, 'pnpm-lock.yaml'));
  const manifests = [lock];
  const stamp = path.join(root, 'node_modules', '.ofq-bootstrap');
  const digest = createHash('sha256').update(Buffer.concat(manifests)).digest('hex');
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === digest) return;
  log('installing workspace dependencies (pnpm install --frozen-lockfile)');
  execFileSync(pnpm, ['install', '--frozen-lockfile'], { cwd: root, stdio: 'inherit' });
  fs.writeFileSync(stamp, digest);
}

/** Debian packages the tests use: Chromium (browser tests) and Fashion-MNIST (the layers and folder examples). */
const DEBIAN_TEST_PACKAGES = [
  { pkg: 'chromium', path: '/usr/bin/chromium', why: 'the report, demo and ablation browser tests need /usr/bin/chromium' },
  { pkg: 'dataset-fashion-mnist', path: '/usr/share/datasets/fashion-mnist', why: 'the layers-cnn and image-folder examples train on Fashion-MNIST (else they fall back to MNIST)' },
];

function ensureDebianPackages() {
  if (process.env.OFQ_SKIP_CHROMIUM) return;
  const missing = DEBIAN_TEST_PACKAGES.filter((p) => !fs.existsSync(p.path));
  if (missing.length === 0) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const hasApt = spawnSync('sh', ['-c', 'command -v apt-get'], { encoding: 'utf8' }).status === 0;
  if (!isRoot || !hasApt) {
    log('Debian packages are missing and cannot be installed from here (needs root + apt-get):');
    for (const p of missing) log(`  sudo apt-get install -y ${p.pkg}   # ${p.why}`);
    return;
  }
  log(`installing Debian ${missing.map((p) => p.pkg).join(', ')} for the tests (apt-get)`);
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  spawnSync('apt-get', ['install', '-y', '-qq', ...missing.map((p) => p.pkg)], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

const args = process.argv.slice(2);
const pnpm = ensurePnpm();
ensureDependencies(pnpm);
if (args.includes('--with-browser')) ensureDebianPackages();
const runIdx = args.indexOf('--run');
if (runIdx >= 0) runScript(args.slice(runIdx + 1));

// Runs `pnpm run <rest>` and waits for it: a terminal's Ctrl-C reaches the whole foreground process
// group (so the trainer saves a checkpoint and exits); this launcher only stays alive until the child
// is done, forwards SIGTERM/SIGHUP, and exits with the child's status.
function runScript(rest) {
  const child = spawn(pnpm, ['run', ...rest], { cwd: root, stdio: 'inherit' });
  const forward = (signal) => () => child.kill(signal);
  process.on('SIGINT', () => undefined); // the child got the same Ctrl-C from the terminal
  process.on('SIGTERM', forward('SIGTERM'));
  process.on('SIGHUP', forward('SIGHUP'));
  child.on('exit', (code, signal) => process.exit(code ?? (signal === 'SIGINT' ? 130 : 1)));
}
