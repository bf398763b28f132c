/**
 * `wharf gen-hostkey --out FILE`: an ed25519 SSH host key in OpenSSH
 * format (FILE, mode 0600) and its public half (FILE.pub), as
 * `ssh-keygen -t ed25519` writes them. Refuses to overwrite a key.
 */
import { writeFile } from 'node:fs/promises';
import ssh2 from 'ssh2';
import { ConfigError } from '../config/load.js';

/** Writes a new host key; returns the paths and the public key line. */
export async function generateHostKey(out: string, comment = 'wharf host key'): Promise<{ key: string; pub: string; line: string }> {
  const pair = ssh2.utils.generateKeyPairSync('ed25519', { comment });
  const pub = `${out}.pub`;
  try {
    await writeFile(out, pair.private, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new ConfigError([`gen-hostkey: ${out} already exists; not overwriting a host key`]);
    throw new ConfigError([`gen-hostkey: cannot write ${out} (${code ?? 'error'})`]);
  }
  await writeFile(pub, pair.public.trim() + '\n', { mode: 0o644 });
  return { key: out, pub, line: pair.public.trim() };
}
