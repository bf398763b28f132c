/**
 * The web view from the library (`wharf/server`), on a root that is a Vfs
 * object (MemoryVfs: no file identity, no copy fast path): pages, whole
 * files, ranges and validators work the same; `listen()` gives `http`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, MemoryVfs } from '../../src/host/index.js';
import { leakCheck } from '../helpers/leaks.js';
import { describe } from '../helpers/clients.js';
import { curl, headersOf } from '../helpers/http.js';

test('createServer with a MemoryVfs root and [http]: pages, downloads, ranges, 304', async (t) => {
  const check = leakCheck();
  const server = createServer({
    server: { host: '127.0.0.1', port: 0 },
    anonymous: { enabled: true, root: new MemoryVfs({ 'pub/hello.txt': 'hi there\n', 'pub/notes/a.md': '# a\n', 'incoming/x': 'secret' }), upload_dir: 'incoming' },
    http: { port: 0 },
  });
  const addresses = await server.listen();
  t.after(async () => {
    await server.close();
    await check();
  });
  const http = addresses.http;
  assert.ok(http);
  assert.deepEqual(http, { host: '127.0.0.1', port: http.port, secure: false });
  const url = `http://127.0.0.1:${http.port}`;
  const page = await curl([`${url}/pub/`]);
  assert.equal(page.code, 0, describe(page));
  assert.match(page.stdout.toString(), /<a href="notes\/">notes\/<\/a>[\s\S]*<a href="hello\.txt">hello\.txt<\/a>/);
  const file = await curl(['-D', '-', `${url}/pub/hello.txt`]);
  const h = headersOf(file.stdout.toString());
  assert.equal(h.status, 200);
  assert.match(file.stdout.toString(), /\r\n\r\nhi there\n$/);
  const part = await curl(['-r', '3-7', `${url}/pub/hello.txt`]);
  assert.equal(part.stdout.toString(), 'there');
  const etag = h.headers.get('etag') ?? '';
  assert.equal(headersOf((await curl(['-D', '-', '-H', `If-None-Match: ${etag}`, `${url}/pub/hello.txt`])).stdout.toString()).status, 304);
  assert.equal(headersOf((await curl(['-D', '-', `${url}/incoming/x`])).stdout.toString()).status, 403);
});
