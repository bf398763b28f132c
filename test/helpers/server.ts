/**
 * Starts a real Wharf server on 127.0.0.1, port 0, over temporary
 * directories: an anonymous root with a drop box and a user with a home.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildConfig, type WharfConfig } from '../../src/config/load.js';
import { hashPassword } from '../../src/auth/password.js';
import { WharfServer, type WharfServerOptions } from '../../src/host/server.js';
import { createLogger } from '../../src/events/log.js';
import { leakCheck } from './leaks.js';

/** A running test server. */
export interface TestServer {
  server: WharfServer;
  port: number;
  host: string;
  /** Temporary directory holding everything. */
  dir: string;
  /** Anonymous root. */
  root: string;
  /** Home of user `alice` (password `secret`, all permissions). */
  aliceHome: string;
  /** Home of user `reader` (password `secret`, list and read only). */
  readerHome: string;
  config: WharfConfig;
  /**
   * Closes the server (no grace), removes the temporary directory, then runs
   * the leak check: fails if anything the test opened since `startServer`
   * (sockets, servers, timers, child processes, file handles) is still open.
   * With several test servers open at once, the check runs when the last one
   * closes (see `joinLeakGroup`). Close the test's own clients and listeners
   * first. Calling it again returns the same promise.
   */
  close(): Promise<void>;
}

/** Options of the test helper itself (not of the server). */
export interface StartOptions {
  /**
   * Skip the leak check in `close()`; the value is the reason, and must say
   * why this test cannot be checked (not merely that it fails).
   */
  skipLeakCheck?: string;
}

let cachedHash: Promise<string> | null = null;

/** The scrypt hash of "secret", computed once per test process. */
export function secretHash(): Promise<string> {
  cachedHash ??= hashPassword('secret');
  return cachedHash;
}

/** Deep-merges plain objects (arrays and scalars replace). */
function merge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && cur && typeof cur === 'object' && !Array.isArray(cur)
        ? merge(cur as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

/**
 * Starts a server. `overrides` is merged into the TOML-shaped config
 * (e.g. `{ server: { max_connections: 2 } }`). The anonymous root holds
 * `hello.txt`, `pub/data.bin` (64 KiB) and an `incoming` drop box.
 */
export async function startServer(overrides: Record<string, unknown> = {}, options: WharfServerOptions = {}, helper: StartOptions = {}): Promise<TestServer> {
  if (helper.skipLeakCheck !== undefined && helper.skipLeakCheck.trim() === '') throw new Error('skipLeakCheck needs a reason');
  const leaks = joinLeakGroup(helper.skipLeakCheck);
  try {
    return await start(overrides, options, leaks);
  } catch (err) {
    leaks.leave().catch(() => undefined);
    throw err;
  }
}

/**
 * Test servers open at the same time share one leak check: the snapshot is
 * taken when the first of them starts, and checked when the last of them has
 * closed. So a test may start a second server and close them in any order
 * (after-hooks run in the order they were added) without one server's check
 * counting the other's sockets. Tests in a file run one at a time, so a group
 * is one test's servers.
 */
let group: { open: number; check: () => Promise<void>; skipped: string[] } | null = null;

function joinLeakGroup(skip: string | undefined): { leave(): Promise<void> } {
  // Snapshot before the helper opens anything, so the check covers the whole test from here on.
  const g = (group ??= { open: 0, check: leakCheck(), skipped: [] });
  g.open++;
  if (skip !== undefined) g.skipped.push(skip);
  let left = false;
  return {
    async leave() {
      if (left) return;
      left = true;
      if (--g.open > 0) return;
      if (group === g) group = null;
      if (g.skipped.length === 0) await g.check();
    },
  };
}

async function start(overrides: Record<string, unknown>, options: WharfServerOptions, leaks: { leave(): Promise<void> }): Promise<TestServer> {
  const dir = await mkdtemp(join(tmpdir(), 'wharf-test-'));
  const root = join(dir, 'anon');
  const aliceHome = join(dir, 'alice');
  const readerHome = join(dir, 'reader');
  await mkdir(join(root, 'pub'), { recursive: true });
  await mkdir(join(root, 'incoming'), { recursive: true });
  await mkdir(aliceHome, { recursive: true });
  await mkdir(readerHome, { recursive: true });
  await writeFile(join(root, 'hello.txt'), 'Hello, world!\n');
  const data = Buffer.alloc(65536);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 8)) & 255;
  await writeFile(join(root, 'pub', 'data.bin'), data);
  await writeFile(join(readerHome, 'report.txt'), 'quarterly numbers\n');
  const hash = await secretHash();
  const base = {
    // No login delay and a high ban threshold unless a test asks for them,
    // so tests with a wrong password do not slow each other down.
    server: { host: '127.0.0.1', port: 0, login_failure_delay: 0, ban_threshold: 1000 },
    anonymous: { enabled: true, root, upload_dir: 'incoming' },
    users: [
      { name: 'alice', password: hash, home: aliceHome, permissions: ['*'] },
      { name: 'reader', password: hash, home: readerHome, permissions: ['list', 'read'] },
    ],
    log: { level: process.env.WHARF_TEST_LOG ?? 'silent' },
  };
  const config = buildConfig(merge(base, overrides), dir);
  const server = new WharfServer(config, { logger: createLogger(config.log.level), ...options });
  const { ftp } = await server.listen();
  let closing: Promise<void> | undefined;
  return {
    server,
    port: ftp.port,
    host: ftp.host,
    dir,
    root,
    aliceHome,
    readerHome,
    config,
    close() {
      closing ??= (async () => {
        try {
          await server.close(0);
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
        await leaks.leave();
      })();
      return closing;
    },
  };
}
