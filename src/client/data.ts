/**
 * Data connections: passive (EPSV, then PASV) and active (EPRT, then PORT),
 * wrapped in TLS when the session is protected (PROT P), resuming the control
 * connection's TLS session as vsftpd, ProFTPD and FileZilla Server require.
 */
import net from 'node:net';
import tls from 'node:tls';
import { formatEprt, formatHostPort, normalizeAddress, parseEpsvReply, parsePasvReply } from '../protocol/address.js';
import { isIPv6 } from '../protocol/ip.js';
import type { ControlConnection } from './control.js';
import { FtpAbortError, FtpProtocolError, FtpReplyError, FtpTimeoutError } from './errors.js';
import { replyKind } from './reply.js';

/** Settings that shape how data connections are made. */
export interface DataSettings {
  /** Passive (client connects) or active (server connects back). */
  passive: boolean;
  /** TLS options for data connections, or undefined for clear data. */
  tls: tls.ConnectionOptions | undefined;
  /** Milliseconds allowed to establish the connection. */
  timeout: number;
  signal?: AbortSignal;
}

/** A data connection being set up: call `open()` once the transfer command was sent. */
export interface PendingData {
  /** Resolves with the (TLS-wrapped when required) socket ready for I/O. */
  open(): Promise<net.Socket>;
  /** Releases the listener or socket if the transfer fails early. */
  dispose(): void;
}

/** Mutable per-connection memory: commands the server refused once are not tried again. */
export interface DataMemory {
  epsvRefused: boolean;
  eprtRefused: boolean;
}

/** The reply to EPSV or PASV could not be parsed. */
function unparsable(verb: 'EPSV' | 'PASV', message: string): never {
  throw new FtpProtocolError(`cannot parse ${verb} reply: ${message}`);
}

/**
 * Negotiates a data connection (sends EPSV/PASV or EPRT/PORT) and returns a
 * handle to open it once the transfer command has been sent.
 */
export async function prepareData(ctrl: ControlConnection, settings: DataSettings, memory: DataMemory): Promise<PendingData> {
  return settings.passive ? preparePassive(ctrl, settings, memory) : prepareActive(ctrl, settings, memory);
}

async function preparePassive(ctrl: ControlConnection, s: DataSettings, memory: DataMemory): Promise<PendingData> {
  const host = ctrl.socket.remoteAddress ?? '127.0.0.1';
  let port: number | undefined;
  if (!memory.epsvRefused) {
    const r = await ctrl.command('EPSV', s.timeout, s.signal);
    if (r.code === 229) port = parseEpsvReply(r.message) ?? unparsable('EPSV', r.message);
    else if (r.code >= 500) memory.epsvRefused = true;
    else throw new FtpReplyError(r.code, r.message, 'EPSV');
  }
  if (port === undefined) {
    if (isIPv6(normalizeAddress(host))) throw new FtpProtocolError('server refused EPSV on an IPv6 connection');
    const r = await ctrl.command('PASV', s.timeout, s.signal);
    if (r.code !== 227) throw new FtpReplyError(r.code, r.message, 'PASV');
    // The announced address is ignored (as curl does): it is often private or wrong behind NAT.
    port = (parsePasvReply(r.message) ?? unparsable('PASV', r.message)).port;
  }
  const socket = await connectData(host, port, s);
  return {
    open: async () => wrapTls(socket, ctrl, s),
    dispose: () => socket.destroy(),
  };
}

async function prepareActive(ctrl: ControlConnection, s: DataSettings, memory: DataMemory): Promise<PendingData> {
  const host = normalizeAddress(ctrl.socket.localAddress ?? '127.0.0.1');
  const server = net.createServer();
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const dispose = (): void => {
    server.close();
  };
  try {
    const port = (server.address() as net.AddressInfo).port;
    let ok = false;
    if (!memory.eprtRefused) {
      const r = await ctrl.command(`EPRT ${formatEprt(host, port)}`, s.timeout, s.signal);
      if (replyKind.completion(r.code)) ok = true;
      else if (r.code >= 500 && !isIPv6(host)) memory.eprtRefused = true;
      else throw new FtpReplyError(r.code, r.message, 'EPRT');
    }
    if (!ok) {
      const r = await ctrl.command(`PORT ${formatHostPort(host, port)}`, s.timeout, s.signal);
      if (!replyKind.completion(r.code)) throw new FtpReplyError(r.code, r.message, 'PORT');
    }
  } catch (err) {
    dispose();
    throw err;
  }
  let socketRef: net.Socket | undefined;
  return {
    open: async () => {
      const socket = await withTimeout(accepted, s, 'waiting for the server to open the data connection');
      socketRef = socket;
      server.close();
      const expected = ctrl.socket.remoteAddress;
      if (expected && socket.remoteAddress !== expected) {
        socket.destroy();
        throw new FtpProtocolError(`data connection from unexpected address ${socket.remoteAddress}`);
      }
      return wrapTls(socket, ctrl, s);
    },
    dispose: () => {
      dispose();
      socketRef?.destroy();
    },
  };
}

function connectData(host: string, port: number, s: DataSettings): Promise<net.Socket> {
  const socket = net.connect({ host, port });
  const connected = new Promise<net.Socket>((resolve, reject) => {
    socket.once('connect', () => {
      socket.removeListener('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
  return withTimeout(connected, s, `opening the data connection to ${host}:${port}`).catch((err: unknown) => {
    socket.destroy();
    throw err;
  });
}

/**
 * Wraps a connected data socket in TLS when required, resuming the control
 * connection's session. The handshake is not awaited here: the server may
 * only start it after the transfer command, and writes are buffered until it
 * completes; errors surface on the socket.
 */
function wrapTls(socket: net.Socket, ctrl: ControlConnection, s: DataSettings): net.Socket {
  if (!s.tls) return socket;
  const control = ctrl.socket as tls.TLSSocket;
  const session = ctrl.tlsSession ?? control.getSession?.();
  return tls.connect({ ...s.tls, socket, session });
}

function withTimeout<T>(promise: Promise<T>, s: DataSettings, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => done(new FtpTimeoutError(`timed out ${what}`)), s.timeout);
    const onAbort = (): void => done(new FtpAbortError('operation aborted'));
    function done(err?: Error, value?: T): void {
      clearTimeout(timer);
      s.signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(value as T);
    }
    if (s.signal?.aborted) {
      onAbort();
      return;
    }
    s.signal?.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => done(undefined, v),
      (e: unknown) => done(e instanceof Error ? e : new Error(String(e))),
    );
  });
}
