/**
 * The user store: looks up accounts and verifies passwords. Unknown users
 * cost the same hash as known ones, so timing does not tell them apart.
 */
import type { UserConfig } from '../config/load.js';
import { DUMMY_HASH, verifyPassword } from './password.js';

/** Verifies user credentials. */
export class UserStore {
  private readonly byName: Map<string, UserConfig>;

  constructor(users: readonly UserConfig[]) {
    this.byName = new Map(users.map((u) => [u.name, u]));
  }

  /** The account when the password is right, else null. */
  async authenticate(name: string, password: string): Promise<UserConfig | null> {
    const user = this.byName.get(name);
    const ok = await verifyPassword(password, user?.password ?? DUMMY_HASH);
    return ok && user ? user : null;
  }
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
