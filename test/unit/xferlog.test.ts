import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatXferlog } from '../../src/events/xferlog.js';

test('xferlog lines follow the wu-ftpd format', () => {
  const end = new Date(2026, 10, 22, 16, 20, 7);
  const line = formatXferlog({
    end,
    seconds: 0.2,
    remoteHost: '127.0.0.1',
    bytes: 14,
    path: '/pub/my file.txt',
    ascii: false,
    direction: 'o',
    anonymous: true,
    user: 'me@example.com',
    complete: true,
  });
  assert.equal(line, 'Sun Nov 22 16:20:07 2026 1 127.0.0.1 14 /pub/my_file.txt b _ o a me@example.com ftp 0 * c');
  const fields = line.split(' ');
  assert.equal(fields.length, 18);
  const upload = formatXferlog({ end, seconds: 3.6, remoteHost: '::1', bytes: 5, path: '/x', ascii: true, direction: 'i', anonymous: false, user: 'alice', complete: false });
  assert.match(upload, / 4 ::1 5 \/x a _ i r alice ftp 0 \* i$/);
});
