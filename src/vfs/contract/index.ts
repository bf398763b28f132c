/**
 * The Vfs contract suite: one set of `node:test` tests that every storage
 * backend must pass, so the server can rely on the same behaviour from the
 * disk, from memory or from an object store. A backend's test file calls
 * `vfsContractSuite('name', make)` with a factory giving a fresh, empty
 * backend per test; the suite builds its fixtures only through the Vfs.
 */
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { VfsError, type VfsErrorCode } from '../errors.js';
import type { Vfs } from '../types.js';
import { FILE_CASES } from './files.js';
import { DIR_CASES } from './dirs.js';
import { SECURITY_CASES } from './security.js';

export { OUTSIDE_SECRET } from './security.js';

/** One backend under test, fresh and empty. */
export interface ContractTarget {
  vfs: Vfs;
  /**
   * Releases what the target holds (temporary directories...); runs after
   * `vfs.close()`, also when the test failed. A failed assertion here fails
   * the test: the place to check that nothing changed outside the root.
   */
  cleanup?(): Promise<void>;
  /**
   * Only for backends with links: makes a symlink at virtual path `link`
   * pointing at the virtual path `target`, or, when `target` is the string
   * `'outside'`, at a place outside the root that holds a file named
   * `secret.txt` (whose content is OUTSIDE_SECRET) and an empty directory
   * named `sub`.
   */
  symlink?(link: string, target: string): Promise<void>;
  /** The host directory behind the root, if any: no error may mention it. */
  hostRoot?: string;
}

/** Tuning of the suite. */
export interface VfsContractOptions {
  /** Entries of the big-directory test (default 2,100; keep it at 2,000 or more). */
  bigDirSize?: number;
  /** Time limit of each test in milliseconds (default 60,000). */
  timeout?: number;
}

/** What each test gets. */
export interface CaseContext {
  vfs: Vfs;
  target: ContractTarget;
  t: TestContext;
  options: Required<VfsContractOptions>;
  /**
   * Awaits `op`, which must reject with a VfsError of one of `codes`
   * whose text is safe to show a client; returns that error.
   */
  fails: (op: Promise<unknown> | (() => Promise<unknown>), codes: VfsErrorCode | readonly VfsErrorCode[], what?: string) => Promise<VfsError>;
}

/** One contract test: its title and its body. */
export type ContractCase = readonly [title: string, run: (c: CaseContext) => Promise<void>];

/** Every code a VfsError may carry. */
export const VFS_ERROR_CODES: readonly VfsErrorCode[] = ['not-found', 'exists', 'not-dir', 'is-dir', 'not-empty', 'denied', 'no-space', 'bad-offset', 'unsupported', 'io'];

/**
 * Asserts that `err` is a VfsError safe to describe to a client: a known
 * code, and a short one-line message naming no path at all (no `/`, and
 * never `hostRoot`).
 */
export function assertSafeError(err: unknown, hostRoot?: string, what = 'error'): asserts err is VfsError {
  assert.ok(err instanceof VfsError, `${what}: expected a VfsError, got ${String(err)}`);
  assert.ok(VFS_ERROR_CODES.includes(err.code), `${what}: unknown code ${err.code}`);
  const texts = [err.message, String(err), err.code];
  for (const text of texts) {
    assert.ok(!text.includes('\n'), `${what}: multi-line error text`);
    assert.ok(text.length <= 200, `${what}: error text too long`);
    if (hostRoot) assert.ok(!text.includes(hostRoot), `${what}: error text reveals the host path`);
  }
  assert.ok(!err.message.includes('/'), `${what}: the error message names a path`);
}

function makeFails(hostRoot: string | undefined): CaseContext['fails'] {
  return async (op, codes, what = 'operation') => {
    const list: readonly VfsErrorCode[] = typeof codes === 'string' ? [codes] : codes;
    let result: unknown;
    try {
      result = await (typeof op === 'function' ? op() : op);
    } catch (err) {
      assertSafeError(err, hostRoot, what);
      assert.ok(list.includes(err.code), `${what}: expected ${list.join(' or ')}, got ${err.code}`);
      return err;
    }
    assert.fail(`${what}: expected ${list.join(' or ')}, but it succeeded (${typeof result})`);
  };
}

/**
 * Registers the contract tests for one backend. `make` is called once per
 * test and must give a fresh, empty backend; after the test the suite
 * calls `vfs.close()` (if any) and then `cleanup()` (if any), also when
 * the test failed.
 *
 * @example
 * vfsContractSuite('memory', async () => ({ vfs: new MemoryVfs() }));
 */
export function vfsContractSuite(name: string, make: () => Promise<ContractTarget>, options: VfsContractOptions = {}): void {
  const opts: Required<VfsContractOptions> = { bigDirSize: options.bigDirSize ?? 2100, timeout: options.timeout ?? 60_000 };
  const define = ([title, run]: ContractCase): void => {
    void it(title, { timeout: opts.timeout }, async (t) => {
      const target = await make();
      try {
        await run({ vfs: target.vfs, target, t, options: opts, fails: makeFails(target.hostRoot) });
      } finally {
        try {
          await target.vfs.close?.();
        } finally {
          await target.cleanup?.();
        }
      }
    });
  };
  void describe(`vfs contract: ${name}`, () => {
    void describe('files', () => FILE_CASES.forEach(define));
    void describe('directories', () => DIR_CASES.forEach(define));
    void describe('security', () => SECURITY_CASES.forEach(define));
  });
}
