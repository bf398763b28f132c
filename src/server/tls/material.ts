/**
 * Certificate and key for FTPS. Loaded and checked once (missing,
 * unreadable or mismatched files are config errors), reloadable on SIGHUP.
 * Every FTP session gets its own SecureContext with its own ticket keys,
 * so a data connection can only resume a TLS session that this FTP
 * session's control connection established (vsftpd's require_ssl_reuse).
 */
import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';
import { ConfigError } from '../../config/load.js';

/** The PEM material and the TLS settings derived from it. */
export class TlsMaterial {
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
      m.newContext();
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
    return createSecureContext({
      cert: this.cert,
      key: this.key,
      minVersion: 'TLSv1.2',
      honorCipherOrder: true,
      ticketKeys: randomBytes(48),
      sessionTimeout: 3600,
    });
  }
}
