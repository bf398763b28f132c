/**
 * The `[tls]` certificate and key as every TLS listener needs them: read
 * and checked once (a missing, unreadable or mismatched file is a config
 * error naming the setting). The FTP room builds its per-session contexts
 * on them; the web view serves HTTPS with them.
 */
import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import { ConfigError } from '../config/load.js';

/** A PEM certificate (chain) and its private key. */
export interface TlsPem {
  readonly cert: Buffer;
  readonly key: Buffer;
}

async function readPem(path: string, setting: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError([`${setting}: ${path} ${code === 'ENOENT' ? 'does not exist' : 'is not readable'}`]);
  }
}

/** Reads `tls.cert` and `tls.key` and checks that they make a usable pair; throws ConfigError naming the setting. */
export async function loadTlsPem(certPath: string, keyPath: string): Promise<TlsPem> {
  const [cert, key] = await Promise.all([readPem(certPath, 'tls.cert'), readPem(keyPath, 'tls.key')]);
  try {
    createSecureContext({ cert, key, minVersion: 'TLSv1.2' });
  } catch (err) {
    const msg = (err as Error).message;
    if (/key values mismatch/i.test(msg)) throw new ConfigError([`tls.key: ${keyPath} does not match the certificate in ${certPath}`]);
    if (/no start line|PEM|bad base64|asn1|DECODER/i.test(msg)) throw new ConfigError([`tls.cert/tls.key: ${certPath} or ${keyPath} is not a valid PEM certificate/key`]);
    throw new ConfigError([`tls: cannot use ${certPath} and ${keyPath}: ${msg}`]);
  }
  return { cert, key };
}
