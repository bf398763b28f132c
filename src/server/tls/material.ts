/**
 * Certificate and key for FTPS. Loaded and checked once (missing,
 * unreadable or mismatched files are config errors), reloadable on SIGHUP.
 * Every FTP session gets its own SecureContext with its own ticket keys,
 * registered in `issuers`: a data connection can only resume a TLS session
 * that its own control connection, or a sibling control connection of the
 * same client and account, established (see issuers.ts).
 *
 * Building a context costs about 0.7 ms of CPU (the key and certificate are
 * parsed again), a third of an FTPS session. So the context of an ended
 * session is kept, once no data connection uses it any more, and given to
 * a new session with new ticket keys: tickets sealed with the old keys no
 * longer open on it (OpenSSL keeps no session cache of its own for Node's
 * contexts; only tickets resume), and the registry still answers for the
 * old keys as it did (issuers.ts builds a context for them when asked).
 */
import { randomBytes } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';
import { loadTlsPem, type TlsPem } from '../../core/tls.js';
import { TicketIssuers, type TlsOwner } from './issuers.js';

/** Contexts of ended sessions kept for new ones, at most. */
const MAX_SPARE = 64;

/** Data connections using each context now (handshaking or open). */
const holds = new WeakMap<SecureContext, number>();
/** What to do with an ended session's context once its last data connection closes. */
const whenFree = new WeakMap<SecureContext, () => void>();

/**
 * Marks `context` as used by a data connection until the returned function
 * is called (when the connection closes): its session's context is not
 * given new keys under a handshake in progress.
 */
export function holdContext(context: SecureContext): () => void {
  holds.set(context, (holds.get(context) ?? 0) + 1);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const left = (holds.get(context) ?? 1) - 1;
    if (left > 0) {
      holds.set(context, left);
      return;
    }
    holds.delete(context);
    const then = whenFree.get(context);
    whenFree.delete(context);
    then?.();
  };
}

/** The native handle's `setTicketKeys`, where this Node has it (it is not part of the documented API). */
function rekeyer(context: SecureContext): ((keys: Buffer) => void) | null {
  const native = (context as unknown as { context?: { setTicketKeys?: (keys: Buffer) => void } }).context;
  return typeof native?.setTicketKeys === 'function' ? (keys) => native.setTicketKeys?.(keys) : null;
}

/** The PEM material and the TLS settings derived from it. */
export class TlsMaterial {
  /** The contexts of this server's control connections, by ticket key. */
  readonly issuers = new TicketIssuers((ticketKeys) => this.build(ticketKeys));
  /** Contexts of ended sessions, free for new ones. */
  private spare: SecureContext[] = [];

  private constructor(
    private cert: Buffer,
    private key: Buffer,
  ) {}

  /** Reads and checks the files (core/tls.ts); throws ConfigError naming the setting. */
  static async load(certPath: string, keyPath: string): Promise<TlsMaterial> {
    const pem = await loadTlsPem(certPath, keyPath);
    return new TlsMaterial(pem.cert, pem.key);
  }

  /** The certificate and key in use (for the other TLS listeners). */
  get pem(): TlsPem {
    return { cert: this.cert, key: this.key };
  }

  /** Replaces the material with a newly loaded one (SIGHUP). */
  replaceWith(other: TlsMaterial): void {
    this.cert = other.cert;
    this.key = other.key;
    this.spare = []; // they hold the old certificate
  }

  /** A fresh context for one FTP session: TLS 1.2+, its own ticket keys. */
  newContext(): SecureContext {
    const ticketKeys = randomBytes(48);
    const kept = this.spare.pop();
    const context = kept ?? this.build(ticketKeys);
    if (kept) rekeyer(kept)?.(ticketKeys);
    this.issuers.add(context, ticketKeys);
    return context;
  }

  /** Records the control connection that uses `context` (see issuers.ts). */
  own(context: SecureContext, owner: TlsOwner): void {
    this.issuers.own(context, owner);
  }

  /** The control connection of `context` has ended. */
  retire(context: SecureContext): void {
    if (!this.issuers.retire(context)) return; // not ours, or already retired: never kept twice
    const cert = this.cert;
    const keep = () => {
      if (this.cert === cert && this.spare.length < MAX_SPARE && rekeyer(context)) this.spare.push(context);
    };
    if (holds.has(context)) whenFree.set(context, keep);
    else keep();
  }

  private build(ticketKeys: Buffer): SecureContext {
    return createSecureContext({
      cert: this.cert,
      key: this.key,
      minVersion: 'TLSv1.2',
      honorCipherOrder: true,
      ticketKeys,
      sessionTimeout: 3600,
    });
  }
}
