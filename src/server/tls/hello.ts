/**
 * A look at a data connection's TLS ClientHello before the TLS layer takes
 * it: which session tickets the client offers to resume. Only the first
 * 16 bytes of each ticket matter here: Node's ticket format starts with the
 * name of the key that sealed it (the first 16 bytes of `ticketKeys`), so
 * they say which context issued the ticket. Nothing here trusts a ticket:
 * the handshake still has to decrypt and verify it.
 */
import type { Socket } from 'node:net';

/** Length of a ticket key name. */
export const KEY_NAME_BYTES = 16;

const RECORD_HANDSHAKE = 22;
const CLIENT_HELLO = 1;
const EXT_SESSION_TICKET = 35;
const EXT_PRE_SHARED_KEY = 41;
/** A ClientHello longer than this is not inspected (the handshake still runs). */
const MAX_HELLO_BYTES = 64 * 1024;

/** What a peek found: the handshake bytes so far, or that the socket went away. */
export type Peeked = { kind: 'hello'; message: Buffer | null } | { kind: 'gone' };

/**
 * The first handshake message (the ClientHello, whole, from as many records
 * as it spans), or null when the first bytes are not a TLS handshake or the
 * message is too long; 'more' while incomplete.
 */
export function clientHelloFrom(bytes: Buffer): Buffer | null | 'more' {
  const parts: Buffer[] = [];
  let have = 0;
  let offset = 0;
  while (offset + 5 <= bytes.length) {
    if (bytes[offset] !== RECORD_HANDSHAKE) return null;
    const length = bytes.readUInt16BE(offset + 3);
    if (offset + 5 + length > bytes.length) break;
    parts.push(bytes.subarray(offset + 5, offset + 5 + length));
    have += length;
    offset += 5 + length;
    const message = Buffer.concat(parts, have);
    if (message.length >= 4) {
      const total = 4 + message.readUIntBE(1, 3);
      if (message[0] !== CLIENT_HELLO || total > MAX_HELLO_BYTES) return null;
      if (message.length >= total) return message.subarray(0, total);
    }
  }
  return bytes.length > MAX_HELLO_BYTES + 5 ? null : 'more';
}

/** Reads a length-prefixed field; throws RangeError past the end. */
function field(buf: Buffer, at: number, lengthBytes: 1 | 2): { start: number; end: number } {
  const length = buf.readUIntBE(at, lengthBytes);
  const start = at + lengthBytes;
  if (start + length > buf.length) throw new RangeError('truncated');
  return { start, end: start + length };
}

/** The key names of the PSK identities of a TLS 1.3 `pre_shared_key` extension. */
function pskNames(ext: Buffer): Buffer[] {
  const names: Buffer[] = [];
  const identities = field(ext, 0, 2);
  let at = identities.start;
  while (at < identities.end) {
    const id = field(ext, at, 2);
    if (id.end - id.start >= KEY_NAME_BYTES) names.push(ext.subarray(id.start, id.start + KEY_NAME_BYTES));
    at = id.end + 4; // obfuscated_ticket_age
  }
  return names;
}

/**
 * The ticket key names a ClientHello offers: the TLS 1.2 session ticket
 * and the TLS 1.3 pre-shared key identities, in the client's order. An
 * unreadable hello offers none.
 */
export function ticketKeyNames(hello: Buffer): Buffer[] {
  try {
    let at = 4 + 2 + 32; // header, legacy_version, random
    at = field(hello, at, 1).end; // legacy_session_id
    at = field(hello, at, 2).end; // cipher_suites
    at = field(hello, at, 1).end; // legacy_compression_methods
    if (at >= hello.length) return [];
    const extensions = field(hello, at, 2);
    const names: Buffer[] = [];
    for (at = extensions.start; at + 4 <= extensions.end;) {
      const type = hello.readUInt16BE(at);
      const data = field(hello, at + 2, 2);
      const ext = hello.subarray(data.start, data.end);
      if (type === EXT_SESSION_TICKET && ext.length >= KEY_NAME_BYTES) names.push(ext.subarray(0, KEY_NAME_BYTES));
      if (type === EXT_PRE_SHARED_KEY) names.push(...pskNames(ext));
      at = data.end;
    }
    return names;
  } catch {
    return [];
  }
}

/**
 * Reads `socket` until its first handshake message is complete, then puts
 * every byte back and pauses it, so a TLSSocket built on it next sees the
 * stream from the start. Calls `done` once; the returned function stops
 * the peek without calling it.
 */
export function peekClientHello(socket: Socket, done: (peeked: Peeked) => void): () => void {
  let buffered = Buffer.alloc(0);
  const stop = () => {
    socket.off('data', onData);
    socket.off('end', onGone);
    socket.off('close', onGone);
    socket.pause();
  };
  const onData = (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    const hello = clientHelloFrom(buffered);
    if (hello === 'more') return;
    stop();
    socket.unshift(buffered);
    done({ kind: 'hello', message: hello });
  };
  const onGone = () => {
    stop();
    done({ kind: 'gone' });
  };
  socket.on('data', onData);
  socket.once('end', onGone);
  socket.once('close', onGone);
  socket.resume();
  return stop;
}
