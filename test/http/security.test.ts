/**
 * Hostile paths and the drop box, with curl sending each path exactly as
 * written (`--path-as-is`): nothing outside the root by `..`, encoded dots
 * or slashes, NUL, backslashes or symlinks; nothing in the drop box under
 * any spelling or method; error pages that never show a host path.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, makeTree } from '../helpers/clients.js';
import { curl, headersOf, startWeb, type WebServer } from '../helpers/http.js';

/** Status and body of a GET sent exactly as written. */
async function get(web: WebServer, target: string, extra: string[] = []): Promise<{ status: number; body: string }> {
  const r = await curl(['--path-as-is', '-D', '-', ...extra, `${web.url}${target}`]);
  assert.equal(r.code, 0, describe(r));
  const out = r.stdout.toString();
  return { status: headersOf(out).status, body: out.slice(out.lastIndexOf('\r\n\r\n') + 4) };
}

async function withSecrets(t: Parameters<typeof startWeb>[0]): Promise<WebServer> {
  const web = await startWeb(t);
  // Outside the root: a file beside it, and symlinks from inside pointing out.
  await fs.writeFile(path.join(web.srv.dir, 'outside.txt'), 'TOP SECRET outside\n');
  await fs.symlink(path.join(web.srv.dir, 'outside.txt'), path.join(web.srv.root, 'pub', 'link-out.txt'));
  await fs.symlink(web.srv.dir, path.join(web.srv.root, 'pub', 'dir-out'));
  await makeTree(web.srv.root, { 'incoming/secret.txt': 'DROPPED SECRET\n', 'incoming/sub/deep.txt': 'DEEP SECRET\n' });
  return web;
}

test('hostile paths: .., encoded dots and slashes, NUL, backslashes and control characters are refused (400)', async (t) => {
  const web = await withSecrets(t);
  const targets = [
    '/../outside.txt',
    '/pub/../../outside.txt',
    '/%2e%2e/outside.txt',
    '/%2E%2E/outside.txt',
    '/.%2e/outside.txt',
    '/pub/%2e%2e%2f%2e%2e%2foutside.txt',
    '/pub/..%2f..%2foutside.txt',
    '/pub%2f..%2f..%2foutside.txt',
    '/pub/%5c..%5c..%5coutside.txt',
    '/pub/..\\..\\outside.txt',
    '/hello.txt%00.png',
    '/hello%00.txt',
    '/%0d%0aSet-Cookie:x=1',
    '/./hello.txt',
    '/%c0%ae%c0%ae/outside.txt',
    '/%zz',
  ];
  for (const target of targets) {
    const r = await get(web, target);
    assert.equal(r.status, 400, target);
    assert.doesNotMatch(r.body, /SECRET/, target);
    assert.match(r.body, /^400 Bad Request: [^\n/]*\n$/, target);
  }
  // Double encoding is one level only: a literal name that does not exist.
  assert.equal((await get(web, '/%252e%252e/outside.txt')).status, 404);
});

test('symlinks inside the root that point outside are neither listed nor served', async (t) => {
  const web = await withSecrets(t);
  for (const target of ['/pub/link-out.txt', '/pub/dir-out/', '/pub/dir-out/outside.txt', '/pub/dir-out']) {
    const r = await get(web, target);
    assert.equal(r.status, 404, target);
    assert.doesNotMatch(r.body, /SECRET/, target);
  }
  const page = await get(web, '/pub/');
  assert.doesNotMatch(page.body, /link-out|dir-out/);
});

test('the drop box: listed in its parent without a link, nothing in it listed or served, under any spelling or method', async (t) => {
  const web = await withSecrets(t);
  const spellings = [
    '/incoming/',
    '/incoming',
    '/incoming/secret.txt',
    '/incoming/sub/deep.txt',
    '/incoming/sub/',
    '//incoming//secret.txt',
    '/pub/../incoming/secret.txt',
    '/%69ncoming/secret.txt',
    '/incoming%2fsecret.txt',
    '/INCOMING/secret.txt',
    '/Incoming/',
    '/incoming./secret.txt',
    '/incoming%20/secret.txt',
    '/incoming/./secret.txt',
    '/incoming/secret.txt?format=json',
    '/incoming/?format=json',
  ];
  for (const target of spellings) {
    for (const extra of [[], ['-I'], ['-r', '0-3'], ['-H', 'If-None-Match: *']]) {
      const r = await get(web, target, extra);
      assert.ok([400, 403].includes(r.status), `${target} ${extra.join(' ')}: ${r.status}`);
      assert.doesNotMatch(r.body, /SECRET|secret\.txt|deep/, target);
    }
  }
  assert.equal((await get(web, '/incoming/secret.txt')).status, 403);
  const root = await get(web, '/');
  assert.match(root.body, /incoming\/ <span class="note">\(upload only\)<\/span>/);
  assert.doesNotMatch(root.body, /href="incoming/);
});

test('error pages never show a host path, an errno or a stack', async (t) => {
  const web = await withSecrets(t);
  // A FIFO: not a file the archive serves.
  await promisify(execFile)('mkfifo', [path.join(web.srv.root, 'pipe')]);
  const targets = ['/nope', '/pub/nope/', '/pipe', '/hello.txt/x', '/incoming/secret.txt', '/..', '/%00', '/pub/link-out.txt'];
  for (const target of targets) {
    const r = await get(web, target);
    assert.ok(r.status >= 400 && r.status < 500, `${target}: ${r.status}`);
    assert.ok(!r.body.includes(web.srv.dir), `${target} shows a host path: ${r.body}`);
    assert.doesNotMatch(r.body, /ENOENT|EACCES|Error|at .*\.js/, target);
    assert.ok(r.body.length < 200, target);
  }
});
