/**
 * The bookkeeping behind sibling TLS session reuse (src/server/tls/issuers.ts),
 * on a fake clock: which context a data connection gets for a ticket key
 * name, waiting on a sibling that is logging in, an ended sibling counting
 * for an hour as it was when it ended, and the cap on remembered ones.
 * The wire-level behaviour is in test/interop/ftps-sibling-reuse.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { SecureContext } from 'node:tls';
import type { Account } from '../../src/auth/account.js';
import type { LoginState } from '../../src/server/session/types.js';
import { RETAIN_MS, TicketIssuers } from '../../src/server/tls/issuers.js';
import { within } from '../helpers/tls.js';

function loggedIn(name: string, anonymous = false): LoginState {
  return { kind: 'logged-in', account: { name, anonymous } as Account };
}

class Harness {
  clock = 1_000_000;
  built: Buffer[] = [];
  readonly issuers = new TicketIssuers(
    (keys) => {
      this.built.push(keys);
      return { built: keys } as unknown as SecureContext;
    },
    () => this.clock,
  );

  /** A control connection: its context, its ticket key name, and its (mutable) owner. */
  control(remoteAddress: string, login: LoginState): { context: SecureContext; name: Buffer; owner: { remoteAddress: string; login: LoginState } } {
    const keys = randomBytes(48);
    const context = {} as SecureContext;
    const owner: { remoteAddress: string; login: LoginState } = { remoteAddress, login };
    this.issuers.add(context, keys);
    this.issuers.own(context, owner);
    return { context, name: keys.subarray(0, 16), owner };
  }
}

test('a sibling of the same address and account lends its context; others do not', () => {
  const h = new Harness();
  const me = h.control('192.0.2.1', loggedIn('alice'));
  const sibling = h.control('192.0.2.1', loggedIn('alice'));
  const otherUser = h.control('192.0.2.1', loggedIn('bob'));
  const anonymous = h.control('192.0.2.1', loggedIn('alice', true));
  const elsewhere = h.control('192.0.2.2', loggedIn('alice'));
  const choose = (...names: Buffer[]) => TicketIssuers.choose(me.context, names);
  assert.deepEqual(choose(sibling.name), { context: sibling.context });
  assert.deepEqual(choose(me.name), { context: me.context });
  for (const c of [otherUser, anonymous, elsewhere]) assert.deepEqual(choose(c.name), { context: me.context });
  assert.deepEqual(choose(randomBytes(16)), { context: me.context }, 'an unknown key');
  assert.deepEqual(choose(), { context: me.context }, 'no ticket');
  // The first name that qualifies wins.
  assert.deepEqual(choose(otherUser.name, sibling.name), { context: sibling.context });
  // A sibling that logs out is no longer logged in as alice: its tickets wait for its next login.
  sibling.owner.login = { kind: 'greeted' };
  assert.deepEqual(choose(sibling.name), { wait: true });
  sibling.owner.login = loggedIn('bob');
  assert.deepEqual(choose(sibling.name), { context: me.context });
});

test('a sibling still logging in means wait; settled() wakes the waiters a turn later', async () => {
  const h = new Harness();
  const me = h.control('192.0.2.1', loggedIn('alice'));
  const pending = h.control('192.0.2.1', { kind: 'need-pass', user: 'alice' });
  const stranger = h.control('192.0.2.9', { kind: 'greeted' });
  assert.deepEqual(TicketIssuers.choose(me.context, [pending.name]), { wait: true });
  assert.deepEqual(TicketIssuers.choose(me.context, [stranger.name]), { context: me.context }, 'no waiting on another address');
  const woken = new Promise<void>((resolve) => h.issuers.onSettled(resolve));
  const cancelled = h.issuers.onSettled(() => assert.fail('a cancelled waiter was woken'));
  cancelled();
  pending.owner.login = loggedIn('alice');
  h.issuers.settled();
  await within(woken, 5000, 'the waiter woken');
  assert.deepEqual(TicketIssuers.choose(me.context, [pending.name]), { context: pending.context });
});

test('an ended sibling counts as it was when it ended, for an hour; one never logged in not at all', () => {
  const h = new Harness();
  const me = h.control('192.0.2.1', loggedIn('alice'));
  const ended = h.control('192.0.2.1', loggedIn('alice'));
  const neverIn = h.control('192.0.2.1', { kind: 'greeted' });
  h.issuers.retire(ended.context);
  h.issuers.retire(neverIn.context);
  h.issuers.retire(ended.context); // twice: no effect
  assert.equal(h.issuers.size, 2, 'me, and the ended one that logged in');
  // Its later login state does not matter any more.
  ended.owner.login = loggedIn('mallory');
  const got = TicketIssuers.choose(me.context, [ended.name]);
  assert.ok('context' in got && got.context !== me.context && got.context !== ended.context, 'a context rebuilt from its keys');
  assert.equal(h.built.length, 1);
  assert.deepEqual(TicketIssuers.choose(me.context, [neverIn.name]), { context: me.context });
  h.clock += RETAIN_MS;
  assert.deepEqual(TicketIssuers.choose(me.context, [ended.name]), { context: me.context }, 'forgotten after an hour');
  // An ended control connection's own context no longer leads to the registry.
  assert.equal(TicketIssuers.of(ended.context), null);
  assert.equal(TicketIssuers.of(me.context), h.issuers);
});

test('at most 1000 ended control connections are remembered, the oldest forgotten first', () => {
  const h = new Harness();
  const me = h.control('192.0.2.1', loggedIn('alice'));
  const ended = Array.from({ length: 1001 }, () => h.control('192.0.2.1', loggedIn('alice')));
  for (const c of ended) {
    h.clock++;
    h.issuers.retire(c.context);
  }
  assert.equal(h.issuers.size, 1 + 1000);
  assert.deepEqual(TicketIssuers.choose(me.context, [ended[0]!.name]), { context: me.context });
  assert.notDeepEqual(TicketIssuers.choose(me.context, [ended[1]!.name]), { context: me.context });
});
