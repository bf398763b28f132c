/**
 * Issue 10, item 1 over FTPS: the passive data connection is accepted
 * before or after the transfer command under PROT P, with explicit
 * (AUTH TLS) and implicit FTPS, for every transfer command. The client's
 * TLS handshake on the data connection starts as soon as it connects; the
 * server answers it after 150.
 */
import type { Socket } from 'node:net';
import { test } from 'node:test';
import { FtpsControl, startFtps } from '../helpers/tls.js';
import { ORDERS, TRANSFER_VERBS, checkVerb, seedHome } from '../helpers/dataOrder.js';

for (const kind of ['explicit', 'implicit'] as const) {
  for (const order of ORDERS) {
    test(`${kind} FTPS with PROT P, passive, ${order}: every transfer command completes with 150 and 226`, async (t) => {
      const f = await startFtps(t);
      await seedHome(f.srv.aliceHome);
      for (const verb of TRANSFER_VERBS) {
        await t.test(verb, async () => {
          const control = kind === 'explicit' ? await FtpsControl.plain(f.port) : await FtpsControl.implicit(f.implicitPort);
          try {
            await control.greeting();
            if (kind === 'explicit') await control.authTls();
            await control.login('alice', 'secret');
            await control.protP();
            const base = { srv: f.srv, control, order, secure: (raw: Socket) => control.secureData(raw) };
            await checkVerb(base, f.srv.aliceHome, verb);
            await checkVerb(base, f.srv.aliceHome, 'NLST');
          } finally {
            control.close();
          }
        });
      }
    });
  }
}
