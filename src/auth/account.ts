/**
 * An account as every protocol sees it once logged in: its storage, its
 * rights there and its limits. Made by the login service.
 */
import type { Vfs } from '../vfs/types.js';
import type { Access } from './access.js';

/** Who is logged in, and what that allows. */
export interface Account {
  /** The user name (`anonymous` for anonymous sessions). */
  name: string;
  anonymous: boolean;
  /** The account's root. */
  vfs: Vfs;
  /** The rights in it. */
  access: Access;
  /** Bytes per second per transfer; 0 for none. */
  maxRate: number;
  /** For anonymous: the password given (the e-mail address), for logs. */
  ident?: string;
  /** Gives back what the login took (the anonymous slot); safe to call twice. */
  release(): void;
}
