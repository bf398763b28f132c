/**
 * The admin token check: `Authorization: Bearer <token>` against the
 * `[admin] token` hash (a `wharf hash-password` string). scrypt is slow on
 * purpose, so a token once verified is remembered by its SHA-256 and later
 * requests compare digests in constant time; a wrong token always pays the
 * full scrypt price, which also throttles guessing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { verifyPassword } from '../auth/password.js';

/** Accepted tokens remembered (digests); the oldest is forgotten first. */
const REMEMBERED = 8;

/** Checks admin requests' bearer tokens. */
export class TokenCheck {
  private readonly known: Buffer[] = [];

  constructor(private readonly hash: string) {}

  /** True when the header carries the token. */
  async check(authorization: string | undefined): Promise<boolean> {
    const m = /^Bearer ([\x21-\x7e]{1,512})$/.exec(authorization ?? '');
    if (!m?.[1]) return false;
    const token = m[1];
    const digest = createHash('sha256').update(token).digest();
    let hit = false;
    for (const k of this.known) hit = timingSafeEqual(k, digest) || hit;
    if (hit) return true;
    if (!(await verifyPassword(token, this.hash))) return false;
    this.known.push(digest);
    if (this.known.length > REMEMBERED) this.known.shift();
    return true;
  }
}
