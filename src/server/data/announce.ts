/**
 * The address a PASV reply announces, per client network. Behind a NAT a
 * server has two faces: clients on the inside must be told its inside
 * address, clients outside the public one. `passive_addresses` maps
 * IPv4 networks to the address announced to clients in them; the longest
 * matching prefix wins, and clients in none get `passive_address`, or the
 * address the client connected to.
 */
import { isIPv4 } from 'node:net';

interface Route {
  base: number;
  mask: number;
  prefix: number;
  address: string;
}

/** An IPv4 address as an unsigned 32-bit number. */
function toInt(address: string): number {
  return address.split('.').reduce((n, part) => ((n << 8) | Number(part)) >>> 0, 0);
}

/** The IPv4 address of a client, also when it arrives IPv4-mapped (`::ffff:a.b.c.d`); null for IPv6. */
function clientV4(address: string): string | null {
  if (isIPv4(address)) return address;
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m && isIPv4(m[1] as string) ? (m[1] as string) : null;
}

/** Chooses the announced address for each client. */
export class PassiveAnnouncer {
  private readonly routes: Route[];

  /** `networks`: `"10.0.0.0/8"` (or a single address) → the address to announce. */
  constructor(
    networks: Readonly<Record<string, string>>,
    private readonly fallback: string | undefined,
  ) {
    this.routes = Object.entries(networks)
      .map(([network, address]) => {
        const [base = '', bits] = network.split('/');
        const prefix = bits === undefined ? 32 : Number(bits);
        const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
        return { base: (toInt(base) & mask) >>> 0, mask, prefix, address };
      })
      .sort((a, b) => b.prefix - a.prefix);
  }

  /** The address to announce to `client`, or undefined for "the address it connected to". */
  addressFor(client: string): string | undefined {
    const v4 = clientV4(client);
    if (v4 !== null && this.routes.length > 0) {
      const n = toInt(v4);
      for (const r of this.routes) if ((n & r.mask) >>> 0 === r.base) return r.address;
    }
    return this.fallback;
  }
}
