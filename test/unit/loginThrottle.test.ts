import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoginThrottle } from '../../src/state/loginThrottle.js';

test('login throttle: growing delay, ban at the threshold, expiry', () => {
  let now = 1_000_000;
  const t = new LoginThrottle({ baseDelayMs: 500, threshold: 4, banSeconds: 60, now: () => now });
  assert.deepEqual(t.fail('1.2.3.4'), { delayMs: 500, banned: false });
  assert.deepEqual(t.fail('1.2.3.4'), { delayMs: 1000, banned: false });
  assert.deepEqual(t.fail('1.2.3.4'), { delayMs: 2000, banned: false });
  assert.equal(t.banRemaining('1.2.3.4'), 0);
  assert.deepEqual(t.fail('1.2.3.4'), { delayMs: 0, banned: true });
  assert.equal(t.banRemaining('1.2.3.4'), 60);
  assert.equal(t.banRemaining('5.6.7.8'), 0);
  t.succeed('1.2.3.4');
  assert.equal(t.banRemaining('1.2.3.4'), 60, 'a success does not lift a ban');
  now += 61_000;
  assert.equal(t.banRemaining('1.2.3.4'), 0);
  assert.equal(t.fail('1.2.3.4').delayMs, 500, 'failures are forgotten after a quiet period');
});

test('login throttle: the delay is capped and the table is bounded', () => {
  const t = new LoginThrottle({ baseDelayMs: 100, threshold: 1000, banSeconds: 60, capacity: 100 });
  let last = 0;
  for (let i = 0; i < 20; i++) last = t.fail('9.9.9.9').delayMs;
  assert.equal(last, 1600);
  for (let i = 0; i < 10_000; i++) t.fail(`10.0.${i >> 8}.${i & 255}`);
  assert.equal(t.size, 100);
});
