/**
 * Password hashes in PHC string format: `$scrypt$ln=15,r=8,p=1$SALT$HASH`
 * (base64 without padding). Hashing runs in libuv's thread pool, off the
 * event loop; comparison is constant-time.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const DEFAULT = { ln: 15, r: 8, p: 1 };
const KEY_LENGTH = 32;

function scryptAsync(password: string, salt: Buffer, keylen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

function options(ln: number, r: number, p: number): ScryptOptions {
  const N = 2 ** ln;
  return { N, r, p, maxmem: 256 * N * r + 1024 * 1024 };
}

const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '');

/** Hashes a password into a PHC string. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const { ln, r, p } = DEFAULT;
  const key = await scryptAsync(password, salt, KEY_LENGTH, options(ln, r, p));
  return `$scrypt$ln=${ln},r=${r},p=${p}$${b64(salt)}$${b64(key)}`;
}

interface ParsedHash {
  ln: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

/** Parses a PHC scrypt string; null when it is not one. */
export function parseHash(phc: string): ParsedHash | null {
  const m = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(phc);
  if (!m) return null;
  const [ln, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (ln < 1 || ln > 20 || r < 1 || p < 1) return null;
  const key = Buffer.from(m[5] as string, 'base64');
  if (key.length < 16) return null;
  return { ln, r, p, salt: Buffer.from(m[4] as string, 'base64'), key };
}

/** Verifies a password against a PHC string, in constant time. */
export async function verifyPassword(password: string, phc: string): Promise<boolean> {
  const h = parseHash(phc);
  if (!h) return false;
  const key = await scryptAsync(password, h.salt, h.key.length, options(h.ln, h.r, h.p));
  return timingSafeEqual(key, h.key);
}

/** A hash of nothing in particular, verified for unknown users so timing does not tell. */
export const DUMMY_HASH = '$scrypt$ln=15,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
