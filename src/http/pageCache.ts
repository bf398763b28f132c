/**
 * Rendered directory pages (HTML and JSON), kept for a few seconds: a
 * popular directory of an archive is asked for again and again, and
 * listing, sorting and rendering 10,000 entries costs far more than
 * sending the result. A page is served from here only while all of these
 * hold:
 *
 * - it is younger than `[http] listing_cache` seconds (0 turns the cache
 *   off);
 * - the directory's own modification time, size and identity, from the
 *   stat each request makes anyway, are those the page was made with
 *   (creating, deleting or renaming an entry changes them);
 * - no upload, delete, rename, mkdir or rmdir happened through this
 *   server since (any of them empties the cache).
 *
 * What none of these notices is a file changed in place by another program
 * or another node; that shows at the latest when the page expires, the
 * same bound as the `.message` cache. Memory is bounded: pages over
 * MAX_PAGE are not kept, and the oldest go past MAX_TOTAL.
 */
import type { ServerEvents } from '../events/events.js';
import type { VfsStat } from '../vfs/types.js';

/** Largest page kept (bytes). */
export const MAX_PAGE = 4 * 1024 * 1024;
/** Bytes of pages kept at most. */
const MAX_TOTAL = 32 * 1024 * 1024;

interface Page {
  version: string;
  body: Buffer;
  expires: number;
}

/** The events after which no kept page can be trusted. */
const CHANGES = ['transfer', 'delete', 'rename', 'mkdir', 'rmdir'] as const;

/** Recently rendered directory pages. */
export class PageCache {
  private readonly pages = new Map<string, Page>();
  private total = 0;
  private readonly clear = (): void => {
    this.pages.clear();
    this.total = 0;
  };

  constructor(
    private readonly ttlMs: number,
    private readonly events: ServerEvents,
  ) {
    if (ttlMs > 0) for (const name of CHANGES) events.on(name, this.onChange);
  }

  private readonly onChange = (e: { direction?: string }): void => {
    if (e.direction !== 'download') this.clear();
  };

  /** False when `listing_cache` is 0. */
  get enabled(): boolean {
    return this.ttlMs > 0;
  }

  /** The kept page for `key`, if it is still valid for the directory stat `st`. */
  get(key: string, st: VfsStat, now = Date.now()): Buffer | null {
    const page = this.pages.get(key);
    if (!page) return null;
    if (page.expires > now && page.version === versionOf(st)) return page.body;
    this.drop(key, page);
    return null;
  }

  /** Keeps a page made for the directory stat `st` (nothing if it is too large or the cache is off). */
  put(key: string, st: VfsStat, body: Buffer, now = Date.now()): void {
    if (!this.enabled || body.length > MAX_PAGE) return;
    const old = this.pages.get(key);
    if (old) this.drop(key, old);
    this.pages.set(key, { version: versionOf(st), body, expires: now + this.ttlMs });
    this.total += body.length;
    for (const [k, p] of this.pages) {
      if (this.total <= MAX_TOTAL) break;
      this.drop(k, p);
    }
  }

  /** Stops listening to the server's events. */
  close(): void {
    for (const name of CHANGES) this.events.off(name, this.onChange);
    this.clear();
  }

  private drop(key: string, page: Page): void {
    this.pages.delete(key);
    this.total -= page.body.length;
  }
}

function versionOf(st: VfsStat): string {
  return `${st.mtime.getTime()}/${st.size}/${st.unique ?? ''}`;
}
