/**
 * Certificate and key for FTPS. Loaded and checked once (missing,
 * unreadable or mismatched files are config errors), reloadable on SIGHUP.
 * Every FTP session gets its own SecureContext with its own ticket keys,
 * registered in `issuers`: a data connection can only resume a TLS session
 * that its own control connection, or a sibling control connection of the
 * same client and account, established (see issuers.ts).
 */
import { randomBytes } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';
import { loadTlsPem, type TlsPem } from '../../core/tls.js';
import { TicketIssuers, type TlsOwner } from './issuers.js';

/** The PEM material and the TLS settings derived from it. */
export class TlsMaterial {
  /** The contexts of this server's control connections, by ticket key. */
  readonly issuers = new TicketIssuers((ticketKeys) => this.build(ticketKeys));

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
  }

  /** A fresh context for one FTP session: TLS 1.2+, its own ticket keys. */
  newContext(): SecureContext {
    const ticketKeys = randomBytes(48);
    const context = this.build(ticketKeys);
    this.issuers.add(context, ticketKeys);
    return context;
  }

  /** Records the control connection that uses `context` (see issuers.ts). */
  own(context: SecureContext, owner: TlsOwner): void {
    this.issuers.own(context, owner);
  }

  /** The control connection of `context` has ended. */
  retire(context: SecureContext): void {
    this.issuers.retire(context);
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
