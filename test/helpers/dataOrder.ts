/**
 * Transfers driven by a raw client in a chosen order: the passive data
 * connection made before the transfer command, or after it while the
 * server is certainly processing the command. The orders are made
 * deterministic by observing the server, never by sleeping:
 *
 * - connection first: connect, wait until the server has accepted the
 *   connection (the data channel's `accepted` diagnostic), then send the
 *   command;
 * - command first: send the command, wait until the server has started
 *   the transfer (the `transfer-start` event for file transfers, the data
 *   channel's `waiting` diagnostic for listings), then connect.
 */
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { DATA_CHANNEL_DIAGNOSTICS, type DataChannelDiagnostic } from '../../src/server/data/channel.js';
import { EVENT_TIMEOUT_MS, waitForEvent } from './events.js';
import type { RawReply } from './raw.js';
import type { TestServer } from './server.js';
import { readAllBounded, within } from './tls.js';

/** Every command that moves data over a data connection. */
export const TRANSFER_VERBS = ['RETR', 'STOR', 'APPE', 'STOU', 'LIST', 'NLST', 'MLSD'] as const;
export type TransferVerb = (typeof TRANSFER_VERBS)[number];

/** Which end of the race comes first. */
export type Order = 'connection-first' | 'command-first';
export const ORDERS: readonly Order[] = ['connection-first', 'command-first'];

/** Bound on one reply: far above a transfer's time, far below the server's data timeout (60 s). */
export const REPLY_MS = 10_000;

/**
 * Resolves with the next data channel diagnostic `event` for `port` (any
 * port when 0) that matches `predicate`; rejects after `timeoutMs`.
 * Subscribes at once: call it before the action, await it after.
 */
export function waitForDataChannel(
  event: DataChannelDiagnostic['event'],
  port: number,
  predicate: (m: DataChannelDiagnostic) => boolean = () => true,
  timeoutMs = EVENT_TIMEOUT_MS,
): Promise<DataChannelDiagnostic> {
  let onMessage: ((m: unknown) => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  const p = new Promise<DataChannelDiagnostic>((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for data channel '${event}' on port ${port}`)), timeoutMs);
    onMessage = (raw) => {
      const m = raw as DataChannelDiagnostic;
      if (m.event === event && (port === 0 || m.port === port) && predicate(m)) resolve(m);
    };
    subscribe(DATA_CHANNEL_DIAGNOSTICS, onMessage);
  }).finally(() => {
    clearTimeout(timer);
    if (onMessage) unsubscribe(DATA_CHANNEL_DIAGNOSTICS, onMessage);
  });
  p.catch(() => undefined);
  return p;
}

/** A control connection as the order tests need it (FtpsControl fits, plain or TLS). */
export interface OrderControl {
  send(line: string): void;
  read(timeoutMs?: number): Promise<RawReply | null>;
  cmd(line: string): Promise<RawReply>;
}

/** Sends EPSV and returns the data port. */
export async function epsvPort(c: OrderControl): Promise<number> {
  const r = await c.cmd('EPSV');
  const m = /\(\|\|\|(\d+)\|\)/.exec(r.raw);
  if (r.code !== 229 || !m) throw new Error(`EPSV: ${r.raw}`);
  return Number(m[1]);
}

/** A TCP connection to a data port (bounded), from `localAddress` if given. */
export async function connectData(port: number, localAddress?: string): Promise<net.Socket> {
  const s = net.connect({ port, host: '127.0.0.1', localAddress });
  s.on('error', () => undefined);
  await within(once(s, 'connect'), REPLY_MS, `data connect to ${port}`);
  return s;
}

/** What one ordered transfer needs. */
export interface OrderedTransfer {
  srv: TestServer;
  control: OrderControl;
  order: Order;
  /** The whole command line, e.g. `RETR seed.bin`. */
  line: string;
  /** Bytes to upload; a download when undefined. */
  upload?: Buffer;
  /** Wraps the raw data connection (TLS under PROT P). */
  secure?: (raw: net.Socket) => Duplex;
}

/** The replies and the bytes of one ordered transfer. */
export interface OrderedResult {
  preliminary: RawReply;
  final: RawReply;
  /** What was downloaded (empty for an upload). */
  data: Buffer;
}

const FILE_VERBS = new Set(['RETR', 'STOR', 'APPE', 'STOU']);

/** The server's signal that it is processing the command and waits for the data connection. */
function commandTaken(x: OrderedTransfer, port: number): Promise<unknown> {
  const verb = x.line.split(' ')[0]?.toUpperCase() ?? '';
  return FILE_VERBS.has(verb) ? waitForEvent(x.srv.server, 'transfer-start') : waitForDataChannel('waiting', port);
}

/** Sends the command line and starts reading its first reply (150, or a failure). */
function sendCommand(x: OrderedTransfer): Promise<RawReply | null> {
  x.control.send(x.line);
  const first = x.control.read(REPLY_MS);
  first.catch(() => undefined);
  return first;
}

/** Makes the data connection and the command meet in `x.order`. */
async function meet(x: OrderedTransfer, port: number): Promise<{ raw: net.Socket; first: Promise<RawReply | null> }> {
  if (x.order === 'connection-first') {
    const accepted = waitForDataChannel('accepted', port);
    const raw = await connectData(port);
    await accepted;
    return { raw, first: sendCommand(x) };
  }
  const taken = commandTaken(x, port);
  const first = sendCommand(x);
  // A reply before the connection (e.g. 550) is a failure: do not wait out the bound for the signal.
  const early = first.then((r) => {
    throw new Error(`${x.line}: reply before the data connection: ${r?.raw ?? 'connection closed'}`);
  });
  early.catch(() => undefined);
  await Promise.race([taken, early]);
  return { raw: await connectData(port), first };
}

/** EPSV, then the command and the data connection in `x.order`, then the transfer and its replies. */
export async function orderedTransfer(x: OrderedTransfer): Promise<OrderedResult> {
  const port = await epsvPort(x.control);
  const { raw, first } = await meet(x, port);
  return finish(x, raw, first);
}

/** Moves the bytes over `raw` (secured if asked), then reads the 150 (`first`) and the final reply. */
async function finish(x: OrderedTransfer, raw: net.Socket, first: Promise<RawReply | null>): Promise<OrderedResult> {
  const data = x.secure ? x.secure(raw) : raw;
  try {
    let received: Buffer = Buffer.alloc(0);
    if (x.upload) {
      data.end(x.upload);
      data.resume();
    } else {
      received = await readAllBounded(data, REPLY_MS);
    }
    const preliminary = await first;
    assert.ok(preliminary, `${x.line}: control connection closed`);
    const final = await x.control.read(REPLY_MS);
    assert.ok(final, `${x.line}: control connection closed after ${preliminary.raw}`);
    return { preliminary, final, data: received };
  } finally {
    data.destroy();
    raw.destroy();
  }
}

/** The file the downloads and listings look for. */
export const SEED = { name: 'seed.bin', bytes: Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 31 + 7) & 255)) };

/** Writes what {@link checkVerb} needs into a user's home. */
export async function seedHome(home: string): Promise<void> {
  await writeFile(join(home, SEED.name), SEED.bytes);
  await writeFile(join(home, 'append.txt'), 'head\n');
}

/** Runs one transfer: {@link orderedTransfer}, or another way to make the data connection. */
export type TransferRunner = (x: OrderedTransfer) => Promise<OrderedResult>;

/**
 * Runs `verb` in `order` against `home` (the logged-in user's home, holding
 * what {@link seedHome} writes) and asserts 150, 226 and the right bytes on
 * both ends. `runner` makes the data connection (passive by default).
 */
export async function checkVerb(base: Omit<OrderedTransfer, 'line' | 'upload'>, home: string, verb: TransferVerb, runner: TransferRunner = orderedTransfer): Promise<void> {
  const payload = Buffer.from(`${verb} ${base.order} ${'x'.repeat(5000)}\n`);
  const upload = verb === 'STOR' || verb === 'APPE' || verb === 'STOU' ? payload : undefined;
  const target = { RETR: SEED.name, STOR: `stor-${base.order}.bin`, APPE: 'append.txt', STOU: '', LIST: '', NLST: '', MLSD: '' }[verb];
  const line = target ? `${verb} ${target}` : verb;
  const r = await runner({ ...base, line, upload });
  assert.equal(r.preliminary.code, 150, `${line}: ${r.preliminary.raw}`);
  assert.equal(r.final.code, 226, `${line}: ${r.final.raw}`);
  const text = r.data.toString('latin1');
  switch (verb) {
    case 'RETR':
      assert.ok(r.data.equals(SEED.bytes), `RETR: got ${r.data.length} bytes`);
      break;
    case 'STOR':
      assert.ok((await readFile(join(home, target))).equals(payload));
      break;
    case 'APPE':
      assert.ok((await readFile(join(home, target))).subarray(-payload.length).equals(payload));
      break;
    case 'STOU': {
      const name = /FILE: (\S+)/.exec(r.preliminary.raw)?.[1];
      assert.ok(name, r.preliminary.raw);
      assert.ok((await readFile(join(home, name))).equals(payload));
      break;
    }
    case 'LIST':
      assert.match(text, new RegExp(`^-\\S+ .* ${SEED.name}\\r$`, 'm'));
      break;
    case 'NLST':
      assert.ok(text.split('\r\n').includes(SEED.name), text);
      break;
    case 'MLSD':
      assert.match(text, new RegExp(`type=file;.* ${SEED.name}\\r$`, 'm'));
      break;
  }
}

/**
 * A runner for active mode: listens on a loopback port, sends PORT (or
 * EPRT), the command, and takes the server's connection. `x.order` is
 * ignored: in active mode the server connects once it has the command.
 */
export function activeRunner(verb: 'PORT' | 'EPRT'): TransferRunner {
  return async (x) => {
    const listener = net.createServer();
    try {
      const accepted = once(listener, 'connection') as Promise<[net.Socket]>;
      listener.listen(0, '127.0.0.1');
      await within(once(listener, 'listening'), REPLY_MS, 'listening');
      const port = (listener.address() as net.AddressInfo).port;
      const setup = verb === 'PORT' ? `PORT 127,0,0,1,${port >> 8},${port & 255}` : `EPRT |1|127.0.0.1|${port}|`;
      const r = await x.control.cmd(setup);
      assert.equal(r.code, 200, `${setup}: ${r.raw}`);
      x.control.send(x.line);
      const first = x.control.read(REPLY_MS);
      first.catch(() => undefined);
      const [raw] = await within(accepted, REPLY_MS, 'the server connecting to the active data port');
      raw.on('error', () => undefined);
      listener.close();
      return await finish(x, raw, first);
    } finally {
      listener.close();
    }
  };
}
