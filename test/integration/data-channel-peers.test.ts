/**
 * Who may make the data connection, and active mode. A passive connection
 * must come from the control connection's address (unless
 * allow_foreign_data_address): one from elsewhere is refused whether it
 * comes before or after the command, and the listener stays open for the
 * rightful client. Active mode (PORT, EPRT) works for every transfer
 * command.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../helpers/server.js';
import { waitForEvent } from '../helpers/events.js';
import { FtpsControl, readAllBounded } from '../helpers/tls.js';
import { ORDERS, REPLY_MS, SEED, TRANSFER_VERBS, activeRunner, checkVerb, connectData, epsvPort, seedHome, waitForDataChannel } from '../helpers/dataOrder.js';

/** Another loopback address than the control connection's 127.0.0.1. */
const FOREIGN = '127.0.0.2';

for (const order of ORDERS) {
  test(`passive, ${order}: a connection from another address is refused and the control connection's address still gets the transfer`, async (t) => {
    const srv = await startServer();
    t.after(() => srv.close());
    await seedHome(srv.aliceHome);
    const c = await FtpsControl.plain(srv.port);
    t.after(() => c.close());
    await c.greeting();
    await c.login('alice', 'secret');
    const port = await epsvPort(c);
    const started = waitForEvent(srv.server, 'transfer-start');
    if (order === 'command-first') {
      c.send(`RETR ${SEED.name}`);
      await started;
    }
    const refused = waitForDataChannel('refused', port, (m) => m.reason === 'foreign' && m.from === FOREIGN);
    const intruder = await connectData(port, FOREIGN);
    await refused;
    assert.equal((await readAllBounded(intruder, REPLY_MS)).length, 0);
    intruder.destroy();
    const accepted = waitForDataChannel('accepted', port, (m) => m.from === '127.0.0.1');
    const data = await connectData(port);
    await accepted;
    if (order === 'connection-first') c.send(`RETR ${SEED.name}`);
    const bytes = await readAllBounded(data, REPLY_MS);
    data.destroy();
    assert.equal((await c.read(REPLY_MS))?.code, 150);
    assert.equal((await c.read(REPLY_MS))?.code, 226);
    assert.ok(bytes.equals(SEED.bytes));
  });
}

test('allow_foreign_data_address: a connection from another address after the command carries the transfer', async (t) => {
  const srv = await startServer({ server: { allow_foreign_data_address: true } });
  t.after(() => srv.close());
  await seedHome(srv.aliceHome);
  const c = await FtpsControl.plain(srv.port);
  t.after(() => c.close());
  await c.greeting();
  await c.login('alice', 'secret');
  const port = await epsvPort(c);
  const started = waitForEvent(srv.server, 'transfer-start');
  c.send(`RETR ${SEED.name}`);
  await started;
  const accepted = waitForDataChannel('accepted', port, (m) => m.from === FOREIGN);
  const data = await connectData(port, FOREIGN);
  await accepted;
  const bytes = await readAllBounded(data, REPLY_MS);
  data.destroy();
  assert.equal((await c.read(REPLY_MS))?.code, 150);
  assert.equal((await c.read(REPLY_MS))?.code, 226);
  assert.ok(bytes.equals(SEED.bytes));
});

for (const setup of ['PORT', 'EPRT'] as const) {
  test(`active mode (${setup}): RETR, STOR, APPE, STOU, LIST, NLST and MLSD complete with 150 and 226`, async (t) => {
    const srv = await startServer();
    t.after(() => srv.close());
    await seedHome(srv.aliceHome);
    const c = await FtpsControl.plain(srv.port);
    t.after(() => c.close());
    await c.greeting();
    await c.login('alice', 'secret');
    for (const verb of TRANSFER_VERBS) {
      await t.test(verb, () => checkVerb({ srv, control: c, order: 'command-first' }, srv.aliceHome, verb, activeRunner(setup)));
    }
  });
}
