/**
 * The dataset every server serves, made once per run in a temp directory:
 * a big file for single-stream transfers, a file for the many-clients
 * scenario, directories of many entries for listings (and the HTTP
 * directory page), many 4 KiB files, and
 * a world-writable `incoming` directory for uploads. The opt-in scaling
 * scenarios add, only when selected, directories of up to 1,000,000 empty
 * files and sets of small files of other sizes. Listing directories of
 * 100,000 entries or more are kept between runs (BENCH_LIST_CACHE, default
 * BENCH_TMP/wharf-bench-lists): moved into the dataset and back out. The
 * root itself is not writable by the ftp user (vsftpd insists).
 */
import { execFile } from 'node:child_process';
import { closeSync, existsSync, openSync, renameSync, rmSync } from 'node:fs';
import { chmod, mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { promisify } from 'node:util';
import { SCALE_IDS, wanted, type Options } from './options.js';
import type { CertFiles, DatasetPaths, SshFiles } from './servers/types.js';

const execFileP = promisify(execFile);

/** Names inside the root. */
export const NAMES = {
  big: 'big.bin',
  client: 'client.bin',
  small: 'small',
  /** The small files of `bytes` each: `small` for the default size, else e.g. `small-64k`. */
  smallDir: (bytes: number, defaultBytes: number) => (bytes === defaultBytes ? 'small' : `small-${+(bytes / 1024).toFixed(2)}k`),
  incoming: 'incoming',
  listDir: (n: number) => `list${n}`,
  smallFile: (i: number) => `f${String(i).padStart(5, '0')}.dat`,
};

/** The dataset on disk. */
export interface Dataset extends DatasetPaths {
  /** The temp directory holding root, certificates and scratch. */
  base: string;
  cert: CertFiles;
  /** Keys for the SFTP servers and client; absent when they could not be made (no ssh-keygen). */
  ssh?: SshFiles;
}

/** Writes `size` bytes of fixed pseudo-random data, 1 MiB at a time. */
async function writeBig(file: string, size: number): Promise<void> {
  const chunk = Buffer.allocUnsafe(1 << 20);
  let x = 0x2545f491;
  for (let i = 0; i < chunk.length; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    chunk.writeUInt32LE(x >>> 0, i);
  }
  const fh = await open(file, 'w');
  try {
    for (let done = 0; done < size;) {
      const n = Math.min(chunk.length, size - done);
      // Vary each MiB a little so no layer could deduplicate it.
      chunk.writeUInt32LE(done >>> 20, 0);
      await fh.write(chunk, 0, n);
      done += n;
    }
  } finally {
    await fh.close();
  }
}

/** Creates `count` files named by `name(i)` with `content`, 256 at a time. */
async function manyFiles(dir: string, count: number, name: (i: number) => string, content: Buffer): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < count; i += 256) {
    const batch: Promise<void>[] = [];
    for (let j = i; j < Math.min(count, i + 256); j++) batch.push(writeFile(path.join(dir, name(j)), content));
    await Promise.all(batch);
  }
}

/**
 * Creates `count` empty files named by `name(i)`. Synchronous open+close in
 * batches (about 1.4 times as fast as 256 writeFile calls in flight: the
 * directory's lock serialises creations anyway), yielding between batches
 * so signals are still handled.
 */
async function emptyFiles(dir: string, count: number, name: (i: number) => string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < count; i += 4096) {
    for (let j = i; j < Math.min(count, i + 4096); j++) closeSync(openSync(path.join(dir, name(j)), 'w'));
    await nextTurn();
  }
}

/** Listing directories at least this big are kept between runs (opts.listCache). */
const CACHED_FROM = 100_000;

/** Directories moved from the cache into a dataset, to be moved back when it is removed. */
const borrowed: { cached: string; inRoot: string }[] = [];

/**
 * Puts the listing directory of `n` entries at `dir`: moved (renamed, same
 * file system) out of the cache when a complete one is there, else made
 * (in the cache first when there is one, then moved).
 */
async function listDir(opts: Options, dir: string, n: number): Promise<void> {
  const name = (i: number) => `entry-${String(i).padStart(6, '0')}.txt`;
  const t0 = performance.now();
  const said = (what: string) =>
    process.stdout.write(`  ${what} ${path.basename(dir)} (${n.toLocaleString('en')} empty files) in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  if (!opts.listCache || n < CACHED_FROM) {
    await emptyFiles(dir, n, name);
    if (n >= CACHED_FROM) said('made');
    return;
  }
  const cached = path.join(opts.listCache, path.basename(dir));
  // Written once the directory is whole: a run killed while making it leaves no marker.
  const complete = `${cached}.complete`;
  await mkdir(opts.listCache, { recursive: true });
  if (!existsSync(complete)) {
    await rm(cached, { recursive: true, force: true });
    await emptyFiles(cached, n, name);
    await writeFile(complete, `${n}\n`);
    said(`made (kept in ${opts.listCache})`);
  }
  try {
    await rename(cached, dir);
    await rm(complete, { force: true });
    borrowed.push({ cached, inRoot: dir });
  } catch {
    // Another run holds it, or another file system: make it here.
    await emptyFiles(dir, n, name);
    said('made');
  }
}

/** Moves borrowed listing directories back into the cache (synchronous: also used on signals). */
export function returnListDirs(): void {
  for (const b of borrowed.splice(0)) {
    try {
      if (existsSync(b.cached)) throw new Error('taken');
      renameSync(b.inRoot, b.cached);
      closeSync(openSync(`${b.cached}.complete`, 'w'));
    } catch {
      rmSync(b.inRoot, { recursive: true, force: true });
    }
  }
}

/** The listing directory sizes this run needs: the list and HTTP scenarios', and the selected scaling ones'. */
export function listDirSizes(opts: Options): number[] {
  const scale = opts.scaleListSizes.filter((n) => wanted(opts, SCALE_IDS.listing('LIST', n), true) || wanted(opts, SCALE_IDS.listing('MLSD', n), true));
  return [...new Set([...opts.listSizes, opts.httpDirEntries, ...scale])].sort((a, b) => a - b);
}

/** The small-file sizes (bytes) this run needs besides the default one: the selected scaling scenarios'. */
export function smallSizes(opts: Options): number[] {
  return opts.scaleSmallSizes.filter((b) => b !== opts.smallSize && wanted(opts, SCALE_IDS.small(b), true));
}

/** Makes the dataset and a self-signed certificate (with `wharf gen-cert`). */
export async function makeDataset(opts: Options, base: string, repo: string): Promise<Dataset> {
  const root = path.join(base, 'root');
  await mkdir(root, { recursive: true });
  await chmod(base, 0o755);
  await chmod(root, 0o755);
  await writeBig(path.join(root, NAMES.big), opts.bigBytes);
  await writeBig(path.join(root, NAMES.client), opts.clientBytes);
  const small = Buffer.alloc(opts.smallSize, 0x61);
  await manyFiles(path.join(root, NAMES.small), opts.smallFiles, NAMES.smallFile, small);
  for (const bytes of smallSizes(opts)) {
    await manyFiles(path.join(root, NAMES.smallDir(bytes, opts.smallSize)), opts.smallFiles, NAMES.smallFile, Buffer.alloc(bytes, 0x61));
  }
  // The listing directories, and the one of the HTTP directory page (often one of them).
  for (const n of listDirSizes(opts)) await listDir(opts, path.join(root, NAMES.listDir(n)), n);
  const incoming = path.join(root, NAMES.incoming);
  await mkdir(incoming, { recursive: true });
  await chmod(incoming, 0o777);
  const certDir = path.join(base, 'cert');
  await execFileP(process.execPath, [path.join(repo, 'bin', 'wharf.js'), 'gen-cert', '--out', certDir], { timeout: 60_000 });
  const ssh = await makeSshFiles(path.join(base, 'ssh'), repo).catch((err: unknown) => {
    process.stderr.write(`bench: no SSH keys, the SFTP scenarios will fail: ${err instanceof Error ? err.message : String(err)}\n`);
    return undefined;
  });
  return { base, root, incoming: NAMES.incoming, cert: { cert: path.join(certDir, 'cert.pem'), key: path.join(certDir, 'key.pem') }, ...(ssh ? { ssh } : {}) };
}

/**
 * The SSH material of the SFTP scenarios: Wharf's host key from `wharf
 * gen-hostkey`, sshd's and the client's ed25519 keys from ssh-keygen, and a
 * password hash for Wharf's user (required in [[users]]; it logs in by key).
 */
async function makeSshFiles(dir: string, repo: string): Promise<SshFiles> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const wharf = path.join(repo, 'bin', 'wharf.js');
  const wharfHostKey = path.join(dir, 'wharf_host_ed25519');
  const sshdHostKey = path.join(dir, 'sshd_host_ed25519');
  const clientKey = path.join(dir, 'client_ed25519');
  const keygen = (file: string) => execFileP('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'wharf-bench', '-f', file], { timeout: 30_000 });
  await Promise.all([execFileP(process.execPath, [wharf, 'gen-hostkey', '--out', wharfHostKey], { timeout: 30_000 }), keygen(sshdHostKey), keygen(clientKey)]);
  const passwordHash = await new Promise<string>((resolve, reject) => {
    const child = execFile(process.execPath, [wharf, 'hash-password'], { timeout: 30_000 }, (err, stdout) =>
      err ? reject(new Error(`wharf hash-password: ${err.message}`)) : resolve(stdout.trim()),
    );
    child.stdin?.end('bench-not-used');
  });
  const clientPub = (await readFile(`${clientKey}.pub`, 'utf8')).trim();
  return { wharfHostKey, sshdHostKey, clientKey, clientPub, passwordHash, user: { wharf: 'bench', openssh: 'root' } };
}

/** Removes an uploaded file (the harness cleans up between repetitions). */
export async function removeUpload(ds: Dataset, name: string): Promise<void> {
  await rm(path.join(ds.root, ds.incoming, name), { force: true });
}

/** Deletes the whole dataset (the listing directories borrowed from the cache go back there). */
export async function removeDataset(base: string): Promise<void> {
  returnListDirs();
  await rm(base, { recursive: true, force: true, maxRetries: 3 });
}
