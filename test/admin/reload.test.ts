/**
 * Reload without dropping sessions (`POST /api/reload`; SIGHUP in `wharf
 * serve` does the same): new users and hooks take effect, open sessions go
 * on, and an invalid new config is refused with the old one kept.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { curl, describe } from '../helpers/clients.js';
import { RawSession } from '../helpers/raw.js';
import { secretHash, startServer } from '../helpers/server.js';
import { ConfigError, type WharfConfig } from '../../src/config/load.js';

test('POST /api/reload: a user added to the config logs in, the open session goes on; an invalid config is a 400 and changes nothing', async (t) => {
  let next: () => WharfConfig = () => {
    throw new Error('not set');
  };
  const srv = await startServer({ admin: { port: 0, token: await secretHash() } }, { reloadConfig: async () => next() });
  t.after(() => srv.close());
  const base = `http://127.0.0.1:${srv.server.addresses.admin?.port ?? 0}`;
  const post = async (): Promise<{ code: string; body: string }> => {
    const r = await curl(['-s', '-X', 'POST', '-H', 'Authorization: Bearer secret', '-w', '\n%{http_code}', `${base}/api/reload`]);
    const text = r.stdout.toString();
    return { code: text.slice(text.lastIndexOf('\n') + 1), body: text.slice(0, text.lastIndexOf('\n')) };
  };
  const open = await RawSession.open(srv.port);
  t.after(() => open.close());
  await open.login('alice', 'secret');
  assert.notEqual((await curl([`ftp://bob:secret@127.0.0.1:${srv.port}/`, '-l'])).code, 0, 'bob is not a user yet');

  const alice = srv.config.users[0];
  assert.ok(alice);
  next = () => ({ ...srv.config, users: [...srv.config.users, { ...alice, name: 'bob' }], anonymous: srv.config.anonymous && { ...srv.config.anonymous, hours: '00:00-00:00' } });
  const ok = await post();
  assert.equal(ok.code, '200', ok.body);
  assert.deepEqual(JSON.parse(ok.body), { reloaded: ['users', 'hooks', 'anonymous.hours'], restartNeeded: [] });
  const bob = await curl([`ftp://bob:secret@127.0.0.1:${srv.port}/`, '-l']);
  assert.equal(bob.code, 0, describe(bob));
  assert.equal((await open.cmd('PWD')).code, 257, 'the session open before the reload goes on');

  next = () => {
    throw new ConfigError(['users[0].password: must be a hash from `wharf hash-password`']);
  };
  const bad = await post();
  assert.equal(bad.code, '400');
  assert.match((JSON.parse(bad.body) as { error: string }).error, /users\[0\]\.password: must be a hash/);
  assert.equal((await curl([`ftp://bob:secret@127.0.0.1:${srv.port}/`, '-l'])).code, 0, 'the old config stays in force');
  open.close();
});

test('reload is refused when the server was not started from a config', async (t) => {
  const srv = await startServer({ admin: { port: 0, token: await secretHash() } });
  t.after(() => srv.close());
  const r = await curl(['-s', '-X', 'POST', '-H', 'Authorization: Bearer secret', `http://127.0.0.1:${srv.server.addresses.admin?.port ?? 0}/api/reload`]);
  assert.match(r.stdout.toString(), /not started from a config file/);
});
