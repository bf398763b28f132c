/**
 * Issue 10, item 1: a passive data connection must be accepted whether it
 * arrives before or after the transfer command (FileZilla sends the command
 * and connects at once). Every transfer command, over plain FTP, in both
 * orders, made deterministic by observing the server (see dataOrder.ts).
 */
import { test } from 'node:test';
import { startServer } from '../helpers/server.js';
import { FtpsControl } from '../helpers/tls.js';
import { ORDERS, TRANSFER_VERBS, checkVerb, seedHome } from '../helpers/dataOrder.js';

for (const order of ORDERS) {
  test(`plain FTP, passive, ${order}: RETR, STOR, APPE, STOU, LIST, NLST and MLSD complete with 150 and 226`, async (t) => {
    const srv = await startServer();
    t.after(() => srv.close());
    await seedHome(srv.aliceHome);
    for (const verb of TRANSFER_VERBS) {
      await t.test(verb, async () => {
        // A session per command, so one failure cannot leave the next with stale replies.
        const control = await FtpsControl.plain(srv.port);
        try {
          await control.greeting();
          await control.login('alice', 'secret');
          await checkVerb({ srv, control, order }, srv.aliceHome, verb);
          // The session goes on: the channel was reset for the next transfer.
          await checkVerb({ srv, control, order }, srv.aliceHome, 'NLST');
        } finally {
          control.close();
        }
      });
    }
  });
}
