/**
 * Certificate and key for FTPS. Loaded and checked once (missing,
 * unreadable or mismatched files are config errors), reloadable on SIGHUP.
 * Every FTP session gets its own SecureContext with its own ticket keys,
 * registered in `issuers`: a data connection can only resume a TLS session
 * that its own control connection, or a sibling control connection of the
 * same client and account, established (see issuers.ts).
 */
import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';
import { ConfigError } from '../../config/load.js';
import { TicketIssuers, type TlsOwner } from './issuers.js';

/** The PEM material and the TLS settings derived from it. */
export class TlsMaterial {
  /** The contexts of this server's control connections, by ticket key. */
  readonly issuers = new TicketIssuers((ticketKeys) => this.build(ticketKeys));

  private constructor(
    private cert: Buffer,
    private key: Buffer,
  ) {}

  /** Reads and checks the files; throws ConfigError naming the setting. */
  static async load(certPath: string, keyPath: string): Promise<TlsMaterial> {
    const read = async (path: string, setting: string) => {
      try {
        return await readFile(path);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        throw new ConfigError([`${setting}: ${path} ${code === 'ENOENT' ? 'does not exist' : 'is not readable'}`]);
      }
    };
    const [cert, key] = await Promise.all([read(certPath, 'tls.cert'), read(keyPath, 'tls.key')]);
    const m = new TlsMaterial(cert, key);
    try {
      m.build(randomBytes(48));
    } catch (err) {
      const msg = (err as Error).message;
      if (/key values mismatch/i.test(msg)) throw new ConfigError([`tls.key: ${keyPath} does not match the certificate in ${certPath}`]);
      if (/no start line|PEM|bad base64|asn1|DECODER/i.test(msg)) throw new ConfigError([`tls.cert/tls.key: ${certPath} or ${keyPath} is not a valid PEM certificate/key`]);
      throw new ConfigError([`tls: cannot use ${certPath} and ${keyPath}: ${msg}`]);
    }
    return m;
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
