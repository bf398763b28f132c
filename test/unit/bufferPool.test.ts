import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keptBuffers, LARGE, lease, SMALL } from '../../src/vfs/local/bufferPool.js';

test('bufferPool: buffers come back after a clean transfer and are reused; not after a failed one', () => {
  const a = lease(10 * LARGE);
  assert.equal(a.buffers.length, 2);
  assert.equal(a.buffers[0]?.length, LARGE);
  const [first] = a.buffers;
  a.release(true);
  a.release(true); // twice is harmless
  const b = lease(10 * LARGE);
  assert.ok(b.buffers.includes(first), 'a returned buffer is handed out again');
  const kept = keptBuffers().large;
  b.release(false);
  assert.equal(keptBuffers().large, kept, 'buffers of a failed transfer are not returned (a write may still use them)');
});

test('bufferPool: small files get a private buffer of their size; one chunk needs one buffer', () => {
  const small = lease(4096);
  assert.equal(small.buffers.length, 1);
  assert.equal(small.buffers[0]?.length, 4096);
  small.release(true);
  const one = lease(LARGE);
  assert.equal(one.buffers.length, 1);
  one.release(true);
});

test('bufferPool: many downloads at once get 256 KiB chunks, and the pool keeps at most 16 MiB per size', () => {
  const leases = Array.from({ length: 100 }, () => lease(10 * LARGE));
  assert.equal(leases[0]?.buffers[0]?.length, LARGE, 'the first downloads, while few run, get 1 MiB');
  assert.equal(leases[99]?.buffers[0]?.length, SMALL, 'past a few at once, 256 KiB');
  for (const l of leases) l.release(true);
  const kept = keptBuffers();
  assert.ok(kept.large * LARGE <= 16 * 1024 * 1024, `large kept: ${kept.large}`);
  assert.ok(kept.small * SMALL <= 16 * 1024 * 1024, `small kept: ${kept.small}`);
  assert.equal(kept.small, 64);
  // All released: the next download is alone again and gets 1 MiB chunks.
  const next = lease(10 * LARGE);
  assert.equal(next.buffers[0]?.length, LARGE);
  next.release(true);
});
