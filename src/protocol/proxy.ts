/**
 * The PROXY protocol (HAProxy's proxy-protocol.txt, versions 1 and 2),
 * receiving side, without sockets: feed the decoder the connection's first
 * chunks and it says `need-more`, `header` (with the bytes that followed
 * it, which belong to the protocol behind) or `error`.
 *
 * - Version 1 is one text line, `PROXY TCP4|TCP6|UNKNOWN ...` and CR LF,
 *   at most 107 bytes in all. `UNKNOWN` (what balancers send for health
 *   checks) carries no addresses: the connection's own ones apply.
 * - Version 2 is a 12-byte signature, a version/command byte, a
 *   family/protocol byte, a 16-bit length and that many bytes: the
 *   addresses, then TLVs (skipped). `LOCAL` (health checks) and families
 *   without IP addresses (UNSPEC, UNIX) say "use the connection's own".
 *
 * Anything else is an error at the first byte that cannot start a header,
 * so a client speaking the real protocol directly is told at once.
 */
import { isIPv4, isIPv6 } from './ip.js';

/** One end of the proxied connection. */
export interface ProxyEndpoint {
  address: string;
  port: number;
}

/** A decoded header. */
export interface ProxyHeader {
  version: 1 | 2;
  /**
   * True when the header carries no client address (v2 LOCAL, v1 UNKNOWN,
   * v2 UNSPEC or UNIX families): the connection's own addresses apply.
   */
  local: boolean;
  family: 'tcp4' | 'tcp6' | 'unknown';
  /** The client (absent when `local`). */
  source?: ProxyEndpoint;
  /** The address the client connected to, on the balancer (absent when `local`). */
  destination?: ProxyEndpoint;
}

/** What the decoder says after a chunk. */
export type ProxyResult = { kind: 'need-more' } | { kind: 'header'; header: ProxyHeader; rest: Buffer } | { kind: 'error'; reason: string };

/** The version 2 signature. */
export const PROXY_V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
/** Longest version 1 line, CR LF included. */
export const PROXY_V1_MAX = 107;
/** Longest version 2 payload accepted (addresses and TLVs); the format allows 65535. */
export const PROXY_V2_MAX_PAYLOAD = 2048;

/** Incremental decoder of one connection's PROXY header. */
export class ProxyDecoder {
  private buffer: Buffer = Buffer.alloc(0);
  private done: ProxyResult | null = null;

  /** Adds a chunk; once a header or an error is returned, later calls return the same. */
  push(chunk: Uint8Array): ProxyResult {
    if (this.done) return this.done;
    this.buffer = this.buffer.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buffer, chunk]);
    const result = decode(this.buffer);
    if (result.kind !== 'need-more') {
      this.done = result;
      this.buffer = Buffer.alloc(0);
    }
    return result;
  }
}

function decode(data: Buffer): ProxyResult {
  if (startsLike(data, PROXY_V2_SIGNATURE)) return data.length < 16 ? NEED_MORE : decodeV2(data);
  if (startsLike(data, V1_PREFIX)) return data.length < V1_PREFIX.length ? NEED_MORE : decodeV1(data);
  return error('not a PROXY protocol header');
}

const NEED_MORE: ProxyResult = { kind: 'need-more' };

function error(reason: string): ProxyResult {
  return { kind: 'error', reason };
}

/** True when `data` and `prefix` agree on their common length. */
function startsLike(data: Buffer, prefix: Buffer): boolean {
  const n = Math.min(data.length, prefix.length);
  return data.subarray(0, n).equals(prefix.subarray(0, n));
}

// ---- version 1 ----

const PORT_TEXT = /^(?:0|[1-9]\d{0,4})$/;

function decodeV1(data: Buffer): ProxyResult {
  const limit = Math.min(data.length, PROXY_V1_MAX);
  for (let i = 0; i < limit; i++) {
    const b = data[i] as number;
    if (b === 0x0d) {
      if (i + 2 > PROXY_V1_MAX) return error('PROXY v1 line too long');
      if (i + 1 >= data.length) return NEED_MORE;
      if (data[i + 1] !== 0x0a) return error('PROXY v1 line has a CR without LF');
      const parsed = parseV1Line(data.subarray(0, i).toString('latin1'));
      return parsed.kind === 'error' ? parsed : { kind: 'header', header: parsed.header, rest: data.subarray(i + 2) };
    }
    if (b < 0x20 || b > 0x7e) return error('PROXY v1 line has a control or non-ASCII byte');
  }
  return data.length >= PROXY_V1_MAX ? error('PROXY v1 line too long') : NEED_MORE;
}

function parseV1Line(line: string): { kind: 'header'; header: ProxyHeader } | { kind: 'error'; reason: string } {
  const parts = line.split(' ');
  const family = parts[1];
  if (family === 'UNKNOWN') return { kind: 'header', header: { version: 1, local: true, family: 'unknown' } };
  if (family !== 'TCP4' && family !== 'TCP6') return { kind: 'error', reason: 'PROXY v1 family must be TCP4, TCP6 or UNKNOWN' };
  if (parts.length !== 6) return { kind: 'error', reason: 'PROXY v1 line must have 6 fields' };
  const [, , src, dst, sport, dport] = parts as [string, string, string, string, string, string];
  const valid = family === 'TCP4' ? isIPv4 : (a: string) => isIPv6(a) && !a.includes('%');
  if (!valid(src) || !valid(dst)) return { kind: 'error', reason: `PROXY v1 addresses are not ${family === 'TCP4' ? 'IPv4' : 'IPv6'}` };
  if (!PORT_TEXT.test(sport) || !PORT_TEXT.test(dport) || Number(sport) > 65535 || Number(dport) > 65535) return { kind: 'error', reason: 'PROXY v1 ports are not 0 to 65535' };
  return {
    kind: 'header',
    header: {
      version: 1,
      local: false,
      family: family === 'TCP4' ? 'tcp4' : 'tcp6',
      source: { address: src, port: Number(sport) },
      destination: { address: dst, port: Number(dport) },
    },
  };
}

// ---- version 2 ----

const AF_UNSPEC = 0x0;
const AF_INET = 0x1;
const AF_INET6 = 0x2;
const AF_UNIX = 0x3;
const PROTO_UNSPEC = 0x0;
const PROTO_STREAM = 0x1;

/** The fixed part of a v2 header (bytes 12 to 15), checked. */
function v2Head(data: Buffer): { command: number; family: number; proto: number; length: number } | string {
  const verCmd = data[12] as number;
  if (verCmd >> 4 !== 2) return 'PROXY v2 version must be 2';
  const command = verCmd & 0x0f;
  if (command > 1) return 'PROXY v2 command must be LOCAL or PROXY';
  const famProto = data[13] as number;
  const family = famProto >> 4;
  const proto = famProto & 0x0f;
  if (family > AF_UNIX) return 'PROXY v2 address family is unknown';
  if (proto !== PROTO_UNSPEC && proto !== PROTO_STREAM) return 'PROXY v2 transport must be a stream';
  const length = data.readUInt16BE(14);
  if (length > PROXY_V2_MAX_PAYLOAD) return 'PROXY v2 header too long';
  return { command, family, proto, length };
}

function decodeV2(data: Buffer): ProxyResult {
  const head = v2Head(data);
  if (typeof head === 'string') return error(head);
  if (data.length < 16 + head.length) return NEED_MORE;
  const header = v2Addresses(head, data.subarray(16, 16 + head.length));
  return typeof header === 'string' ? error(header) : { kind: 'header', header, rest: data.subarray(16 + head.length) };
}

/** The addresses of a v2 header (TLVs after them are skipped), or why they are wrong. */
function v2Addresses(head: { command: number; family: number; proto: number }, payload: Buffer): ProxyHeader | string {
  const local: ProxyHeader = { version: 2, local: true, family: 'unknown' };
  // LOCAL: the proxy speaks for itself (health checks); the addresses, if any, are ignored.
  if (head.command === 0) return local;
  if (head.family === AF_UNSPEC) return local;
  if (head.family === AF_UNIX) return payload.length < 216 ? 'PROXY v2 UNIX addresses are truncated' : local;
  if (head.proto !== PROTO_STREAM) return 'PROXY v2 transport must be a stream';
  const header = head.family === AF_INET ? inet4(payload) : head.family === AF_INET6 ? inet6(payload) : null;
  return header ?? 'PROXY v2 addresses are truncated';
}

function inet4(p: Buffer): ProxyHeader | null {
  if (p.length < 12) return null;
  const ip = (at: number) => `${p[at]}.${p[at + 1]}.${p[at + 2]}.${p[at + 3]}`;
  return { version: 2, local: false, family: 'tcp4', source: { address: ip(0), port: p.readUInt16BE(8) }, destination: { address: ip(4), port: p.readUInt16BE(10) } };
}

function inet6(p: Buffer): ProxyHeader | null {
  if (p.length < 36) return null;
  return {
    version: 2,
    local: false,
    family: 'tcp6',
    source: { address: formatIPv6(p.subarray(0, 16)), port: p.readUInt16BE(32) },
    destination: { address: formatIPv6(p.subarray(16, 32)), port: p.readUInt16BE(34) },
  };
}

/**
 * The RFC 5952 text of a 16-byte IPv6 address: lower-case hex, leading
 * zeros dropped, the longest run of two or more zero groups (the first of
 * equals) as `::`, and IPv4-mapped addresses as `::ffff:a.b.c.d`.
 */
export function formatIPv6(bytes: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] as number) << 8) | (bytes[i + 1] as number));
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  }
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(':');
  if (best < 0) return hex(groups);
  return `${hex(groups.slice(0, best))}::${hex(groups.slice(best + bestLen))}`;
}
