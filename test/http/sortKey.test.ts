import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collatorOrder, naturalKey } from '../../src/http/sortKey.js';
import { sortForPage } from '../../src/http/listing.js';
import type { PageEntry } from '../../src/http/page.js';

/** A small deterministic generator (tests must not depend on Math.random's seed). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const ALPHABET = ' !"#$%&\'()*+,-.0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~';

function names(count: number, seed: number): string[] {
  const next = lcg(seed);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    let name = '';
    const len = 1 + Math.floor(next() * 12);
    for (let j = 0; j < len; j++) {
      // Digits and a few letters more often, so digit runs, leading zeros and case ties occur.
      const r = next();
      name += r < 0.3 ? String(Math.floor(next() * 10)) : r < 0.5 ? 'aAbB'[Math.floor(next() * 4)] : ALPHABET[Math.floor(next() * ALPHABET.length)];
    }
    out.push(name);
  }
  out.push('f9', 'f10', 'f010', 'F10', 'file', 'File', 'a b', 'a_b', 'a-b', 'a.b', 'a1b', 'a01b', '0', '00', '', 'Z', 'z', '~', ' ');
  return out;
}

function entries(list: string[], dirs: Set<string> = new Set()): PageEntry[] {
  return list.map((name) => ({ name, type: dirs.has(name) ? 'dir' : 'file', size: 0, mtime: new Date(0), linked: true }));
}

test('naturalKey: sorting by keys gives exactly the collator order, for 5,000 random ASCII names', () => {
  const list = names(5000, 42);
  const expected = [...list].sort(collatorOrder);
  const got = sortForPage(entries(list)).map((e) => e.name);
  assert.deepEqual(got, expected);
});

test('naturalKey: numbers by value, case and leading zeros left to the collator, non-ASCII has no key', () => {
  assert.ok((naturalKey('f9') as string) < (naturalKey('f10') as string));
  assert.ok((naturalKey('v2.9') as string) < (naturalKey('v2.10') as string));
  assert.equal(naturalKey('a'), naturalKey('A'));
  assert.equal(naturalKey('x01'), naturalKey('x1'));
  assert.equal(naturalKey('été'), null);
  assert.equal(naturalKey('tab\there'), null);
  assert.equal(typeof naturalKey('9'.repeat(120)), 'string');
  assert.equal(naturalKey('9'.repeat(200)), null, 'a digit run too long for the key');
});

test('sortForPage: directories first; names outside ASCII sorted among the rest as the collator does', () => {
  const list = ['b10', 'B9', 'été', 'Ephemeral', 'zeta', 'Ωmega', 'a', '日本', 'dir2', 'dir10', 'émile'];
  const got = sortForPage(entries(list, new Set(['dir10', 'dir2', 'zeta']))).map((e) => e.name);
  const files = list.filter((n) => !['dir10', 'dir2', 'zeta'].includes(n)).sort(collatorOrder);
  assert.deepEqual(got, ['dir2', 'dir10', 'zeta', ...files]);
  assert.deepEqual(got.slice(3, 8), ['a', 'B9', 'b10', 'émile', 'Ephemeral']);
});

test('sortForPage: 20,000 entries (past the indexes of two key characters), ties and directories, in the collator order', () => {
  const list = names(20_000, 7);
  const dirs = new Set(list.filter((_, i) => i % 7 === 0));
  const got = sortForPage(entries(list, dirs)).map((e) => e.name);
  const expected = [...list.filter((n) => dirs.has(n)).sort(collatorOrder), ...list.filter((n) => !dirs.has(n)).sort(collatorOrder)];
  assert.deepEqual(got, expected);
});
