/**
 * PROXY protocol headers as a balancer sends them (for the parser's tests
 * and for raw connections to a server that expects them), and a raw
 * connection that sends one first.
 */
import { connect, isIPv4, type Socket } from 'node:net';
import { PROXY_V2_SIGNATURE } from '../../src/protocol/proxy.js';

/** One end of a connection. */
export interface Endpoint {
  address: string;
  port: number;
}

/** A version 1 line: `PROXY TCP4|TCP6 src dst sport dport\r\n`. */
export function proxyV1(source: Endpoint, destination: Endpoint): Buffer {
  const family = isIPv4(source.address) ? 'TCP4' : 'TCP6';
  return Buffer.from(`PROXY ${family} ${source.address} ${destination.address} ${source.port} ${destination.port}\r\n`, 'latin1');
}

/** The 16 bytes of an IPv6 address in text form (no zone). */
export function ipv6Bytes(text: string): Buffer {
  const out = Buffer.alloc(16);
  let t = text;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(t);
  if (v4) {
    const [a, b, c, d] = (v4[1] as string).split('.').map(Number) as [number, number, number, number];
    t = `${t.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = t.includes('::') ? (t.split('::') as [string, string]) : [t, null];
  const h = head ? head.split(':') : [];
  const tl = tail ? tail.split(':') : [];
  const groups = tail === null ? h : [...h, ...Array<string>(8 - h.length - tl.length).fill('0'), ...tl];
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** Options of a version 2 header. */
export interface V2Options {
  /** LOCAL instead of PROXY. */
  local?: boolean;
  /** TLVs appended after the addresses. */
  tlvs?: { type: number; value: Buffer }[];
  /** Overrides the family/protocol byte. */
  famProto?: number;
}

/** A version 2 header with IPv4 or IPv6 addresses. */
export function proxyV2(source: Endpoint | null, destination: Endpoint | null, opts: V2Options = {}): Buffer {
  let addresses = Buffer.alloc(0);
  let famProto = 0x00;
  if (source && destination) {
    const v4 = isIPv4(source.address);
    const bytes = (a: string) => (v4 ? Buffer.from(a.split('.').map(Number)) : ipv6Bytes(a));
    const ports = Buffer.alloc(4);
    ports.writeUInt16BE(source.port, 0);
    ports.writeUInt16BE(destination.port, 2);
    addresses = Buffer.concat([bytes(source.address), bytes(destination.address), ports]);
    famProto = v4 ? 0x11 : 0x21;
  }
  const tlvs = (opts.tlvs ?? []).map(({ type, value }) => {
    const head = Buffer.alloc(3);
    head[0] = type;
    head.writeUInt16BE(value.length, 1);
    return Buffer.concat([head, value]);
  });
  const payload = Buffer.concat([addresses, ...tlvs]);
  const head = Buffer.alloc(4);
  head[0] = opts.local ? 0x20 : 0x21;
  head[1] = opts.famProto ?? famProto;
  head.writeUInt16BE(payload.length, 2);
  return Buffer.concat([PROXY_V2_SIGNATURE, head, payload]);
}

/** Connects to `host:port` and writes `header` first; resolves once connected. */
export function connectWithHeader(host: string, port: number, header: Buffer, localAddress?: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, localAddress }, () => {
      socket.off('error', reject);
      if (header.length > 0) socket.write(header);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Resolves when `socket` closes (true) or after `ms` (false). */
export function closedWithin(socket: Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve(true);
    const timer = setTimeout(() => resolve(false), ms);
    socket.resume();
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}
