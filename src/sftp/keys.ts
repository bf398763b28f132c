/**
 * Public-key logins: turns ssh2's authentication request into the login
 * service's KeyProof. A key matches an authorized_keys line when the type
 * and the key blob are the same; when the client signed, the signature
 * over the session's data must verify with that key.
 */
import ssh2 from 'ssh2';
import type { ParsedKey, PublicKeyAuthContext } from 'ssh2';
import type { KeyProof } from '../auth/login.js';

/** The proof a `publickey` request offers. */
export function keyProof(ctx: PublicKeyAuthContext): KeyProof {
  return {
    matches(line: string): boolean {
      const parsed = ssh2.utils.parseKey(line) as ParsedKey | ParsedKey[] | Error;
      const key: ParsedKey | undefined = Array.isArray(parsed) ? parsed[0] : parsed instanceof Error ? undefined : parsed;
      if (!key) return false;
      if (key.type !== ctx.key.algo || !key.getPublicSSH().equals(ctx.key.data)) return false;
      if (!ctx.signature || !ctx.blob) return true;
      return key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true;
    },
  };
}
