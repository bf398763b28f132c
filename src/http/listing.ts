/**
 * A directory's entries for the web view, in page order: directories
 * first, then files, each by name. Sorting needs the whole directory, so
 * up to MAX_SORTED entries are collected and sorted; a larger directory
 * is streamed instead in two passes over the storage listing (directories,
 * then the rest, each in storage order), so memory per request stays
 * bounded whatever the directory's size. Names starting with a dot are not
 * listed (as `LIST` without `-a`); entries the account may not open (the
 * drop box) are listed without a link.
 */
import type { Access } from '../auth/access.js';
import { joinPath } from '../vfs/path.js';
import type { Vfs, VfsStat } from '../vfs/types.js';
import type { PageEntry } from './page.js';
import { dropBoxEntries, encodeName } from './paths.js';
import { appendKey, collatorOrder, fromCodes, naturalKey, naturalOrder } from './sortKey.js';

/** Entries collected and sorted per page at most; past this, the two-pass stream. */
export const MAX_SORTED = 20_000;

/** Rows per chunk when a sorted listing is written out. */
const CHUNK = 256;

/** A listing in page order. */
export interface OrderedListing {
  /** False when the directory was too large to sort (two-pass order). */
  sorted: boolean;
  /** The entries, batch by batch. */
  batches: AsyncIterable<PageEntry[]>;
}

/** What decides which entries are shown and linked. */
export interface ListingRules {
  access: Access;
  dropBox: string | undefined;
}

/** Decides, per entry of one directory, whether it is shown and linked. */
type EntryFilter = (e: VfsStat) => PageEntry | null;

/**
 * The filter for the entries of `dir`. What may be decided once per
 * directory is: whether an entry is the drop box (only in its parent), and
 * the rights, when the account's rights are the same for every entry.
 */
function entryFilter(dir: string, rules: ListingRules): EntryFilter {
  const isDropBox = dropBoxEntries(dir, rules.dropBox);
  const uniform = rules.access.uniformIn(dir);
  const sample = joinPath(dir, 'x');
  const listDirs = uniform && rules.access.allows('list', sample);
  const readFiles = uniform && rules.access.allows('read', sample);
  return (e) => {
    if (e.name.startsWith('.') || e.type === 'other') return null;
    const isDir = e.type === 'dir';
    let linked = !isDropBox(e.name);
    if (linked) linked = uniform ? (isDir ? listDirs : readFiles) : rules.access.allows(isDir ? 'list' : 'read', joinPath(dir, e.name));
    return { name: e.name, type: e.type, size: e.size, mtime: e.mtime, linked };
  };
}

/** An entry with its sort key. */
interface Keyed {
  entry: PageEntry;
  dir: boolean;
  key: string | null;
}

/** Directories first, then by name (natural order, then code-unit order for ties). */
function keyedOrder(a: Keyed, b: Keyed): number {
  if (a.dir !== b.dir) return a.dir ? -1 : 1;
  return naturalOrder(a.entry.name, a.key, b.entry.name, b.key);
}

/**
 * Sorts entries into page order. When every name has a key (ASCII names,
 * nearly every archive), the keys (with the directory flag in front and
 * the entry's index behind a NUL, in three fixed-width characters) are
 * sorted as plain strings by the engine, without a comparison function;
 * runs of equal keys are then put in the collator's order. Otherwise, a
 * comparison on the keys with the collator for the names without one.
 */
export function sortForPage(entries: readonly PageEntry[]): PageEntry[] {
  if (entries.length > MAX_INDEX) return sortWithCollator(entries);
  const keys = new Array<string>(entries.length);
  const codes: number[] = [];
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as PageEntry;
    codes.length = 0;
    codes.push(e.type === 'dir' ? 0x30 : 0x31);
    if (!appendKey(e.name, codes)) return sortWithCollator(entries);
    codes.push(0, (i >> 14) + 1, ((i >> 7) & 0x7f) + 1, (i & 0x7f) + 1);
    keys[i] = fromCodes(codes);
  }
  keys.sort();
  const out = new Array<PageEntry>(keys.length);
  for (let i = 0; i < keys.length; i++) out[i] = entries[indexOf(keys[i] as string)] as PageEntry;
  orderTies(keys, out);
  return out;
}

/** Most entries {@link sortForPage} can index in its keys (three characters, each 1...128). */
const MAX_INDEX = 128 * 128 * 128;

/** The entry index at the end of a key. */
function indexOf(key: string): number {
  const n = key.length;
  return ((key.charCodeAt(n - 3) - 1) << 14) | ((key.charCodeAt(n - 2) - 1) << 7) | (key.charCodeAt(n - 1) - 1);
}

/** Puts each run of entries with equal keys (`a` and `A`) in the collator's order. */
function orderTies(keys: string[], out: PageEntry[]): void {
  let start = 0;
  for (let i = 1; i <= keys.length; i++) {
    const same = i < keys.length && sameKey(keys[i] as string, keys[start] as string);
    if (same) continue;
    if (i - start > 1) {
      const run = out.slice(start, i).sort((a, b) => collatorOrder(a.name, b.name));
      for (let j = 0; j < run.length; j++) out[start + j] = run[j] as PageEntry;
    }
    start = i;
  }
}

/** True when two keys are equal but for their indexes (compared from the end, where names differ most). */
function sameKey(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  for (let i = a.length - 4; i >= 0; i--) if (a.charCodeAt(i) !== b.charCodeAt(i)) return false;
  return true;
}

function sortWithCollator(entries: readonly PageEntry[]): PageEntry[] {
  const keyed: Keyed[] = entries.map((entry) => ({ entry, dir: entry.type === 'dir', key: naturalKey(entry.name) }));
  keyed.sort(keyedOrder);
  return keyed.map((k) => k.entry);
}

async function* chunks(entries: PageEntry[]): AsyncGenerator<PageEntry[]> {
  for (let i = 0; i < entries.length; i += CHUNK) yield entries.slice(i, i + CHUNK);
}

/** One pass over the storage listing, keeping directories (`dirs`) or the rest. */
async function* pass(vfs: Vfs, dir: string, rules: ListingRules, dirs: boolean): AsyncGenerator<PageEntry[]> {
  const filter = entryFilter(dir, rules);
  for await (const batch of vfs.list(dir)) {
    const out: PageEntry[] = [];
    for (const e of batch) {
      const entry = filter(e);
      if (entry && (entry.type === 'dir') === dirs) out.push(entry);
    }
    if (out.length > 0) yield out;
  }
}

async function* twoPasses(vfs: Vfs, dir: string, rules: ListingRules): AsyncGenerator<PageEntry[]> {
  yield* pass(vfs, dir, rules, true);
  yield* pass(vfs, dir, rules, false);
}

/**
 * Reads `dir` far enough to know whether it can be sorted (up to
 * MAX_SORTED entries): errors of the first read (a directory gone) come
 * here, before anything is sent.
 */
export async function orderedListing(vfs: Vfs, dir: string, rules: ListingRules, max = MAX_SORTED): Promise<OrderedListing> {
  const filter = entryFilter(dir, rules);
  const collected: PageEntry[] = [];
  const it = vfs.list(dir)[Symbol.asyncIterator]();
  for (;;) {
    const next = await it.next();
    if (next.done) break;
    for (const e of next.value) {
      const entry = filter(e);
      if (entry) collected.push(entry);
    }
    if (collected.length > max) {
      await it.return?.();
      return { sorted: false, batches: twoPasses(vfs, dir, rules) };
    }
  }
  return { sorted: true, batches: chunks(sortForPage(collected)) };
}

/** One entry of the JSON listing. */
export function jsonEntry(e: PageEntry): string {
  return JSON.stringify({
    name: e.name,
    type: e.type === 'dir' ? 'dir' : 'file',
    size: e.type === 'dir' ? null : e.size,
    mtime: e.mtime.toISOString(),
    ...(e.linked ? { href: encodeName(e.name) + (e.type === 'dir' ? '/' : '') } : { upload_only: true }),
  });
}

/** The start of the JSON listing (the entries array follows, then `jsonTail`). */
export function jsonHead(dir: string, message: string | null, sorted: boolean): string {
  return `{"path":${JSON.stringify(dir === '/' ? '/' : dir + '/')},"message":${JSON.stringify(message)},"sorted":${sorted},"entries":[`;
}

/** The end of the JSON listing. */
export function jsonTail(): string {
  return ']}\n';
}
