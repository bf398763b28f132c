/**
 * `wharf gen-cert --out DIR`: a self-signed certificate and key for trying
 * FTPS, made with the openssl command. Production needs a real certificate.
 */
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../config/load.js';

/** Paths of a generated pair. */
export interface CertPair {
  cert: string;
  key: string;
}

/**
 * Writes `cert.pem` and `key.pem` (EC P-256, valid for localhost,
 * 127.0.0.1 and ::1, plus `hostname` if given) into `dir`.
 */
export async function generateSelfSigned(dir: string, hostname = 'localhost', days = 825): Promise<CertPair> {
  await mkdir(dir, { recursive: true });
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  const san = [...new Set(['DNS:localhost', `DNS:${hostname}`, 'IP:127.0.0.1', 'IP:::1'])].join(',');
  const args = [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    String(days),
    '-subj',
    `/CN=${hostname}`,
    '-addext',
    `subjectAltName=${san}`,
  ];
  await new Promise<void>((resolve, reject) => {
    execFile('openssl', args, { timeout: 30_000 }, (err, _out, stderr) => {
      if (!err) return resolve();
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') reject(new ConfigError(['gen-cert: the openssl command is not installed (Debian: apt-get install openssl)']));
      else reject(new ConfigError([`gen-cert: openssl failed: ${String(stderr).trim().split('\n')[0] ?? err.message}`]));
    });
  });
  return { cert, key };
}
