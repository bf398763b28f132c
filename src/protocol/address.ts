/**
 * Data connection address encodings: PORT and PASV (RFC 959), EPRT and
 * EPSV (RFC 2428).
 */
import { isIPv4, isIPv6 } from './ip.js';

/** A host and port for a data connection. */
export interface HostPort {
  host: string;
  port: number;
}

function byte(s: string): number | null {
  if (!/^\d{1,3}$/.test(s)) return null;
  const n = Number(s);
  return n <= 255 ? n : null;
}

/**
 * Parses `h1,h2,h3,h4,p1,p2` (PORT argument, PASV reply): six decimal
 * numbers 0 to 255, spaces around them tolerated; port 0 is refused.
 */
export function parseHostPort(text: string): HostPort | null {
  const parts = text.trim().split(',');
  if (parts.length !== 6) return null;
  const nums = parts.map((p) => byte(p.trim()));
  if (nums.some((n) => n === null)) return null;
  const [a, b, c, d, p1, p2] = nums as number[];
  const port = (p1 as number) * 256 + (p2 as number);
  if (port === 0) return null;
  return { host: `${a}.${b}.${c}.${d}`, port };
}

/** Encodes an IPv4 address and port as `h1,h2,h3,h4,p1,p2` (PORT argument, 227 reply). */
export function formatHostPort(host: string, port: number): string {
  return `${host.split('.').join(',')},${port >> 8},${port & 255}`;
}

/** Text of a 227 reply. */
export function formatPasvReply(host: string, port: number): string {
  return `Entering Passive Mode (${formatHostPort(host, port)}).`;
}

/** Text of a 229 reply. */
export function formatEpsvReply(port: number): string {
  return `Entering Extended Passive Mode (|||${port}|)`;
}

/** Result of parsing EPRT: an address, or why it was refused. */
export type EprtResult = { ok: true; family: 1 | 2; host: string; port: number } | { ok: false; reason: 'syntax' | 'protocol' };

/** The network protocols of EPRT (1 IPv4, 2 IPv6) and how each one's address is checked. */
const EPRT_FAMILIES = new Map<string, { family: 1 | 2; isAddress: (host: string) => boolean }>([
  ['1', { family: 1, isAddress: isIPv4 }],
  ['2', { family: 2, isAddress: isIPv6 }],
]);

/** The EPRT delimiter may be any printable ASCII character but space (33 to 126). */
function isEprtDelimiter(d: string): boolean {
  const c = d.charCodeAt(0);
  return c >= 33 && c <= 126;
}

/** The protocol, address and port fields of `<d>proto<d>address<d>port<d>`; null when the argument is not of that shape. */
function eprtFields(arg: string): [proto: string, host: string, port: string] | null {
  const d = arg.charAt(0);
  if (!isEprtDelimiter(d)) return null;
  const parts = arg.split(d);
  if (parts.length !== 5 || parts[0] !== '' || parts[4] !== '') return null;
  return [parts[1] ?? '', parts[2] ?? '', parts[3] ?? ''];
}

/** An EPRT port: one to five decimal digits, 1 to 65535; null otherwise. */
function eprtPort(text: string): number | null {
  if (!/^\d{1,5}$/.test(text)) return null;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : null;
}

/**
 * Parses the EPRT argument `<d>proto<d>address<d>port<d>`. An unknown
 * protocol is refused as `protocol` (the server then answers 522), before the
 * port and the address are looked at; anything else wrong is `syntax`.
 */
export function parseEprt(arg: string): EprtResult {
  const fields = eprtFields(arg);
  if (!fields) return { ok: false, reason: 'syntax' };
  const [proto, host, portText] = fields;
  const protocol = EPRT_FAMILIES.get(proto);
  if (!protocol) return { ok: false, reason: 'protocol' };
  const port = eprtPort(portText);
  if (port === null || !protocol.isAddress(host)) return { ok: false, reason: 'syntax' };
  return { ok: true, family: protocol.family, host, port };
}

/** Formats an EPRT argument: `|2|addr|port|` for IPv6, else `|1|addr|port|`. */
export function formatEprt(host: string, port: number): string {
  return `|${isIPv6(host) ? 2 : 1}|${host}|${port}|`;
}

/**
 * Parses the port out of a 229 reply text: `(<d><d><d>port<d>)` with any
 * delimiter `<d>`, anywhere in the text (RFC 2428 section 3). Null when
 * absent or out of range 1 to 65535.
 */
export function parseEpsvReply(text: string): number | null {
  const m = /\((.)\1\1(\d+)\1\)/.exec(text);
  if (!m) return null;
  const port = Number(m[2]);
  return port >= 1 && port <= 65535 ? port : null;
}

/**
 * Parses the host and port out of a 227 reply text: the first run of six
 * comma-separated numbers, with or without parentheses around it (servers
 * differ). Null when absent, when a number is over 255 or the port is 0.
 */
export function parsePasvReply(text: string): HostPort | null {
  const m = /(\d{1,3}(?:,\d{1,3}){5})/.exec(text);
  return m ? parseHostPort(m[1] as string) : null;
}

/** Strips the IPv4-mapped prefix `::ffff:` that dual-stack sockets report. */
export function normalizeAddress(address: string | undefined): string {
  if (!address) return '';
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? (m[1] as string) : address;
}
