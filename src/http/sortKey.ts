/**
 * Natural name order for directory pages without calling the collator on
 * every comparison. `Intl.Collator('en', { numeric: true })` is the order
 * users expect (`f9` before `f10`, `a` beside `A`), but a comparison costs
 * about 0.2 µs and sorting 10,000 names makes 130,000 of them. Here each
 * printable-ASCII name gets, once, a key whose plain `<` order is the
 * collator's primary order: each character becomes its primary rank (taken
 * from the collator itself at start, so the two cannot disagree), and each
 * run of digits becomes a marker, its length without leading zeros and its
 * digits, so numbers compare by value. Names the key cannot represent
 * (control characters, anything outside ASCII) and names whose keys tie
 * (`a` and `A`, `01` and `1`) are compared by the collator, then by code
 * unit, as before.
 */

const collator = new Intl.Collator('en', { numeric: true });

/** Primary rank (1...) of each printable ASCII character; 0 for the rest. */
const RANK = new Uint8Array(128);
/** Key code for a run of digits (the rank of the digits in the collator's order). */
let DIGITS = 0;

(function ranks(): void {
  const base = new Intl.Collator('en', { sensitivity: 'base' });
  const chars: string[] = [];
  for (let c = 0x20; c < 0x7f; c++) chars.push(String.fromCharCode(c));
  chars.sort((a, b) => base.compare(a, b) || (a < b ? -1 : 1));
  let rank = 0;
  let previous = '';
  for (const ch of chars) {
    if (previous === '' || base.compare(previous, ch) !== 0) rank++;
    RANK[ch.charCodeAt(0)] = rank;
    previous = ch;
  }
  DIGITS = RANK[0x30] as number;
})();

/**
 * Offset of a digit run's length in the key, above every rank and below
 * 0x100, so keys stay one-byte strings (V8 compares those about twice as
 * fast as two-byte ones). Longer runs than fit have no key.
 */
const LENGTH_BASE = 0x80;
const MAX_RUN = 0xff - LENGTH_BASE;

/** The sort key of `name`, or null when only the collator can order it. */
export function naturalKey(name: string): string | null {
  const codes: number[] = [];
  return appendKey(name, codes) ? fromCodes(codes) : null;
}

/**
 * Appends the key codes of `name` (see {@link naturalKey}) to `codes`;
 * false when only the collator can order it (`codes` then holds a part).
 */
export function appendKey(name: string, codes: number[]): boolean {
  const n = name.length;
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) {
      let start = i;
      let end = i;
      while (end + 1 < n && isDigit(name.charCodeAt(end + 1))) end++;
      while (start < end && name.charCodeAt(start) === 0x30) start++; // leading zeros
      if (end - start + 1 > MAX_RUN) return false;
      codes.push(DIGITS, LENGTH_BASE + (end - start + 1));
      for (let j = start; j <= end; j++) codes.push(name.charCodeAt(j));
      i = end;
      continue;
    }
    const rank = c < 128 ? (RANK[c] as number) : 0;
    if (rank === 0) return false;
    codes.push(rank);
  }
  return true;
}

/** The string of char codes `codes` (each below 0x100, so a one-byte string). */
export function fromCodes(codes: number[]): string {
  if (codes.length <= SLICE) return String.fromCharCode.apply(null, codes);
  // Built in slices: passing a very long name's codes in one call could overflow the stack.
  let key = '';
  for (let i = 0; i < codes.length; i += SLICE) key += String.fromCharCode.apply(null, codes.slice(i, i + SLICE));
  return key;
}

const SLICE = 4096;

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** The collator's order, then code-unit order for names it finds equal. */
export function collatorOrder(a: string, b: string): number {
  return collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}

/** Orders two names by their keys when both have one (null: use the collator). */
export function naturalOrder(a: string, ka: string | null, b: string, kb: string | null): number {
  if (ka !== null && kb !== null && ka !== kb) return ka < kb ? -1 : 1;
  return collatorOrder(a, b);
}
