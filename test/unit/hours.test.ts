/** Anonymous hours: parsing and the window check, in time zones and across midnight. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { minutesIn, parseHours, validTimeZone, withinHours } from '../../src/config/hours.js';

test('parseHours: HH:MM-HH:MM with optional spaces; anything else is null', () => {
  assert.deepEqual(parseHours('18:00-08:00'), { start: 1080, end: 480, text: '18:00-08:00' });
  assert.deepEqual(parseHours(' 9:30 - 17:05 '), { start: 570, end: 1025, text: '9:30 - 17:05' });
  for (const bad of ['', '18-08', '24:00-08:00', '18:60-08:00', '18:00', '18:00-08:00-09:00', 'a:bc-08:00', '18:00–08:00']) assert.equal(parseHours(bad), null, bad);
});

test('withinHours: a day window, a window across midnight, and equal ends (all day)', () => {
  const at = (iso: string): Date => new Date(iso);
  const night = parseHours('18:00-08:00');
  const day = parseHours('09:00-17:00');
  const all = parseHours('00:00-00:00');
  assert.ok(night && day && all);
  assert.equal(withinHours(night, 'UTC', at('2026-12-02T17:59:00Z')), false);
  assert.equal(withinHours(night, 'UTC', at('2026-12-02T18:00:00Z')), true);
  assert.equal(withinHours(night, 'UTC', at('2026-12-02T23:59:00Z')), true);
  assert.equal(withinHours(night, 'UTC', at('2026-12-03T07:59:00Z')), true);
  assert.equal(withinHours(night, 'UTC', at('2026-12-03T08:00:00Z')), false);
  assert.equal(withinHours(day, 'UTC', at('2026-12-02T09:00:00Z')), true);
  assert.equal(withinHours(day, 'UTC', at('2026-12-02T17:00:00Z')), false);
  assert.equal(withinHours(all, 'UTC', at('2026-12-02T03:00:00Z')), true);
});

test('minutesIn: local time of a zone, with summer time', () => {
  assert.equal(minutesIn('Europe/Paris', new Date('2026-12-02T12:00:00Z')), 13 * 60); // CET
  assert.equal(minutesIn('Europe/Paris', new Date('2026-07-02T12:00:00Z')), 14 * 60); // CEST
  assert.equal(minutesIn('America/New_York', new Date('2026-12-02T03:15:00Z')), 22 * 60 + 15);
  assert.equal(validTimeZone('Europe/Paris'), true);
  assert.equal(validTimeZone('UTC'), true);
  assert.equal(validTimeZone('Mars/Olympus'), false);
});
