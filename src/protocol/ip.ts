/**
 * Textual IP address checks, pure so that the protocol core needs no
 * sockets module. They accept what Node reports for socket addresses and
 * what users type: strict IPv4 dotted quads, and IPv6 in any RFC 4291
 * text form (`::` compression, an embedded IPv4 tail such as
 * `::ffff:1.2.3.4`) with an optional zone id (`fe80::1%eth0`).
 */

const OCTET = /^(?:0|[1-9]\d{0,2})$/;
const HEXTET = /^[0-9A-Fa-f]{1,4}$/;
// RFC 6874 allows unreserved characters in a zone id; interface names and
// numeric scope ids both fit.
const ZONE = /^[0-9A-Za-z._~-]+$/;

/**
 * True for a dotted quad `a.b.c.d` of decimal numbers 0 to 255. Leading
 * zeros (octal in inet_aton), fewer parts, hex and spaces are refused.
 */
export function isIPv4(text: string): boolean {
  const parts = text.split('.');
  if (parts.length !== 4) return false;
  return parts.every((p) => OCTET.test(p) && Number(p) <= 255);
}

function hextets(text: string): string[] | null {
  if (text === '') return [];
  const groups = text.split(':');
  return groups.every((g) => HEXTET.test(g)) ? groups : null;
}

/**
 * True for an IPv6 address: eight groups of one to four hex digits, or
 * fewer around a single `::`; the last 32 bits may be written as an IPv4
 * dotted quad; a `%zone` suffix is allowed. Brackets are not part of an
 * address and are refused.
 */
export function isIPv6(text: string): boolean {
  let addr = text;
  const pct = addr.indexOf('%');
  if (pct !== -1) {
    if (!ZONE.test(addr.slice(pct + 1))) return false;
    addr = addr.slice(0, pct);
  }
  const lastColon = addr.lastIndexOf(':');
  if (lastColon === -1) return false;
  const last = addr.slice(lastColon + 1);
  if (last.includes('.')) {
    // An IPv4 tail stands for two groups.
    if (!isIPv4(last)) return false;
    addr = `${addr.slice(0, lastColon + 1)}0:0`;
  }
  const gap = addr.indexOf('::');
  if (gap === -1) return hextets(addr)?.length === 8;
  if (addr.indexOf('::', gap + 1) !== -1) return false;
  const head = hextets(addr.slice(0, gap));
  const tail = hextets(addr.slice(gap + 2));
  return head !== null && tail !== null && head.length + tail.length <= 7;
}
