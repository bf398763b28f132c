/**
 * The PROXY protocol at the door of every listener (`[server]
 * proxy_protocol`, `trusted_proxies`): who a connection is really from.
 *
 * With `proxy_protocol` off, no header is ever believed: a connection is
 * from its socket's address. With it on, a connection from a trusted proxy
 * must start with a complete, valid v1 or v2 header within a few seconds
 * (else it is closed, nothing answered) and the header's source address is
 * the client's for everything; a control connection from anyone else is
 * closed at once. Data connections differ only there: from an untrusted
 * source they stand on the socket's own address (clients that reach a node
 * directly), and the data channel checks it as usual.
 *
 * The header is read in paused mode (`readable` and `read()`), and what
 * follows it is put back with `unshift`: the socket is handed on as if
 * fresh, with its first bytes still to read, whatever reads it next (the
 * FTP session, a TLS layer for implicit FTPS, ssh2, node:http).
 */
import { BlockList, isIPv4, type Server, type Socket } from 'node:net';
import type { Logger } from '../events/log.js';
import { normalizeAddress } from '../protocol/address.js';
import { ProxyDecoder, type ProxyHeader } from '../protocol/proxy.js';

/** How long a trusted proxy may take to send its header. */
export const PROXY_HEADER_TIMEOUT_MS = 5000;

/** Who a connection is from. */
export interface Peer {
  /** The client: the PROXY header's source, else the socket's peer. */
  address: string;
  port: number;
  /** The proxy that named the client; null when the socket's peer is the client. */
  proxy: string | null;
}

/** The proxy settings of `[server]`. */
export interface ProxySettings {
  proxy_protocol: boolean;
  trusted_proxies: readonly string[];
}

const peers = new WeakMap<Socket, Peer>();

/** The socket's own peer. */
function ownPeer(socket: Socket): Peer {
  return { address: normalizeAddress(socket.remoteAddress), port: socket.remotePort ?? 0, proxy: null };
}

/** Who `socket` is from: what its gate found, else its own peer. */
export function peerOf(socket: Socket): Peer {
  return peers.get(socket) ?? ownPeer(socket);
}

/** Builds the trusted list; an address without a prefix is one host. */
function blockList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefix] = entry.split('/');
    const type = isIPv4(address) ? 'ipv4' : 'ipv6';
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  return list;
}

/** The PROXY protocol policy of one listener (or several: it holds no listener). */
export class ProxyGate {
  readonly enabled: boolean;
  private readonly trusted: BlockList;
  private readonly pending = new Set<Socket>();

  constructor(
    settings: ProxySettings,
    private readonly log: Logger,
    private readonly timeoutMs = PROXY_HEADER_TIMEOUT_MS,
  ) {
    this.enabled = settings.proxy_protocol;
    this.trusted = blockList(settings.trusted_proxies);
  }

  /** True when `address` may send PROXY headers. */
  trusts(address: string): boolean {
    if (!address) return false;
    return isIPv4(address) ? this.trusted.check(address, 'ipv4') : this.trusted.check(address, 'ipv6');
  }

  /**
   * Who a new control connection is from. Resolves null when it is refused
   * (untrusted source, bad or late header) or gone; the socket is then destroyed.
   */
  accept(socket: Socket): Promise<Peer | null> {
    if (!this.enabled) return Promise.resolve(ownPeer(socket));
    const from = normalizeAddress(socket.remoteAddress);
    if (!this.trusts(from)) {
      this.log.info({ event: 'proxy-refused', remote: from, reason: 'untrusted' }, 'connection refused: not from a trusted proxy');
      socket.destroy();
      return Promise.resolve(null);
    }
    return this.read(socket, from);
  }

  /**
   * Who a new data connection is from: from a trusted proxy, the header's
   * client (required); from anyone else, the socket's own peer.
   */
  acceptData(socket: Socket): Promise<Peer | null> {
    const from = normalizeAddress(socket.remoteAddress);
    if (!this.enabled || !this.trusts(from)) return Promise.resolve(ownPeer(socket));
    return this.read(socket, from);
  }

  /**
   * Puts the gate before a listener's `connection` handlers (for servers
   * that take sockets themselves, such as node:http): they see only
   * connections let through, with the header taken off. Call after every
   * handler is added.
   */
  guard(server: Server): void {
    if (!this.enabled) return;
    const handlers = server.listeners('connection') as ((socket: Socket) => void)[];
    server.removeAllListeners('connection');
    server.on('connection', (socket: Socket) => {
      socket.on('error', () => undefined);
      void this.accept(socket).then((peer) => {
        if (!peer || socket.destroyed) return;
        for (const handler of handlers) handler.call(server, socket);
      });
    });
  }

  /** Closes the connections still waiting for their header (shutdown). */
  close(): void {
    for (const socket of this.pending) socket.destroy();
  }

  /** Reads the header of a connection from trusted proxy `proxy`. */
  private read(socket: Socket, proxy: string): Promise<Peer | null> {
    return new Promise((resolve) => {
      const decoder = new ProxyDecoder();
      const finish = (peer: Peer | null, reason?: string) => {
        clearTimeout(timer);
        socket.off('readable', onReadable);
        socket.off('end', onGone);
        socket.off('close', onGone);
        this.pending.delete(socket);
        if (peer) peers.set(socket, peer);
        else {
          if (reason) this.log.info({ event: 'proxy-refused', proxy, reason }, `connection from a trusted proxy closed: ${reason}`);
          socket.destroy();
        }
        // After the stream has settled from paused mode (its flowing state is reset on the next tick),
        // so whoever reads next finds it as a fresh socket.
        process.nextTick(resolve, peer);
      };
      const onReadable = () => {
        let chunk: Buffer | null;
        while ((chunk = socket.read() as Buffer | null) !== null) {
          const r = decoder.push(chunk);
          if (r.kind === 'need-more') continue;
          if (r.kind === 'error') return finish(null, r.reason);
          if (r.rest.length > 0) socket.unshift(r.rest);
          return finish(headerPeer(r.header, socket, proxy));
        }
      };
      const onGone = () => finish(null);
      const timer = setTimeout(() => finish(null, 'no complete PROXY header in time'), this.timeoutMs);
      this.pending.add(socket);
      socket.on('error', () => undefined);
      socket.on('readable', onReadable);
      socket.once('end', onGone);
      socket.once('close', onGone);
    });
  }
}

/** The peer a header names; LOCAL and UNKNOWN headers leave the connection's own. */
function headerPeer(header: ProxyHeader, socket: Socket, proxy: string): Peer {
  if (header.local || !header.source) return ownPeer(socket);
  return { address: normalizeAddress(header.source.address), port: header.source.port, proxy };
}
