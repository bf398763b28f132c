/**
 * The user store: looks up accounts and verifies passwords. Unknown users
 * cost the same hash as known ones, so timing does not tell them apart.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { UserConfig } from '../config/load.js';
import { DUMMY_HASH, verifyPassword } from './password.js';

const CACHE_TTL_MS = 60_000;
const CACHE_MAX = 1024;

/**
 * Verifies user credentials. The scrypt check runs in libuv's thread pool,
 * off the event loop. Successful checks are remembered for a minute (at
 * most 1,024 of them) as an HMAC under a key that lives only in this
 * process, so repeated logins (mirror tools open many connections) are
 * cheap while the stored hashes stay as strong as they are.
 */
export class UserStore {
  private readonly byName: Map<string, UserConfig>;
  private readonly cacheKey = randomBytes(32);
  private readonly verified = new Map<string, { mac: Buffer; expires: number }>();

  constructor(users: readonly UserConfig[]) {
    this.byName = new Map(users.map((u) => [u.name, u]));
  }

  /** The account when one of its authorized keys matches the proof (checked by the protocol), else null. */
  withKey(name: string, proof: KeyCheck): UserConfig | null {
    const user = this.byName.get(name);
    return user?.authorizedKeys.some((k) => proof.matches(k)) ? user : null;
  }

  /** The account when the password is right, else null. */
  async authenticate(name: string, password: string): Promise<UserConfig | null> {
    const user = this.byName.get(name);
    const mac = createHmac('sha256', this.cacheKey)
      .update(`${name}\0${user?.password ?? ''}\0${password}`)
      .digest();
    const cached = this.verified.get(name);
    if (user && cached && cached.expires > Date.now() && timingSafeEqual(cached.mac, mac)) return user;
    const ok = await verifyPassword(password, user?.password ?? DUMMY_HASH);
    if (!ok || !user) return null;
    this.verified.delete(name);
    this.verified.set(name, { mac, expires: Date.now() + CACHE_TTL_MS });
    if (this.verified.size > CACHE_MAX) this.verified.delete(this.verified.keys().next().value as string);
    return user;
  }
}

/** Something that can tell whether an authorized key is the one offered (see LoginService's KeyProof). */
interface KeyCheck {
  matches(authorizedKey: string): boolean;
}

/** RFC 1635: the user names that mean anonymous. */
export function isAnonymousName(name: string): boolean {
  const n = name.toLowerCase();
  return n === 'anonymous' || n === 'ftp';
}

/** A loose e-mail shape check for `require_email`. */
export function looksLikeEmail(text: string): boolean {
  return /^[^\s@]+@[^\s@]*$/.test(text) || /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(text);
}
