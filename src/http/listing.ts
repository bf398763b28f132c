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
import { encodeName, inDropBox } from './paths.js';

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

/** The page entry for a storage entry, or null when it is not shown. */
function toEntry(dir: string, e: VfsStat, rules: ListingRules): PageEntry | null {
  if (e.name.startsWith('.') || e.type === 'other') return null;
  const path = joinPath(dir, e.name);
  const isDir = e.type === 'dir';
  const linked = !inDropBox(path, rules.dropBox) && rules.access.allows(isDir ? 'list' : 'read', path);
  return { name: e.name, type: e.type, size: e.size, mtime: e.mtime, linked };
}

const collator = new Intl.Collator('en', { numeric: true });

/** Directories first, then by name (natural order, then byte order for ties). */
export function pageOrder(a: PageEntry, b: PageEntry): number {
  const da = a.type === 'dir' ? 0 : 1;
  const db = b.type === 'dir' ? 0 : 1;
  if (da !== db) return da - db;
  return collator.compare(a.name, b.name) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

async function* chunks(entries: PageEntry[]): AsyncGenerator<PageEntry[]> {
  for (let i = 0; i < entries.length; i += CHUNK) yield entries.slice(i, i + CHUNK);
}

/** One pass over the storage listing, keeping directories (`dirs`) or the rest. */
async function* pass(vfs: Vfs, dir: string, rules: ListingRules, dirs: boolean): AsyncGenerator<PageEntry[]> {
  for await (const batch of vfs.list(dir)) {
    const out: PageEntry[] = [];
    for (const e of batch) {
      const entry = toEntry(dir, e, rules);
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
  const collected: PageEntry[] = [];
  const it = vfs.list(dir)[Symbol.asyncIterator]();
  for (;;) {
    const next = await it.next();
    if (next.done) break;
    for (const e of next.value) {
      const entry = toEntry(dir, e, rules);
      if (entry) collected.push(entry);
    }
    if (collected.length > max) {
      await it.return?.();
      return { sorted: false, batches: twoPasses(vfs, dir, rules) };
    }
  }
  collected.sort(pageOrder);
  return { sorted: true, batches: chunks(collected) };
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
