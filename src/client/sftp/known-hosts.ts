/**
 * Checking a server's host key against an OpenSSH `known_hosts` file:
 * plain and hashed (`|1|salt|hash`) host patterns, `[host]:port` names for
 * ports other than 22, wildcards and negations, `@revoked` lines.
 */
import { createHash, createHmac } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** One usable line of a known_hosts file. */
export interface KnownHostLine {
  /** 1-based line number, for messages. */
  line: number;
  /** `@revoked` lines refuse the key; `@cert-authority` lines are ignored. */
  marker: 'revoked' | undefined;
  /** Comma-separated host patterns, or one hashed `|1|salt|hash` entry. */
  hosts: string;
  /** Key type, e.g. `ssh-ed25519`. */
  keyType: string;
  /** The public key blob (SSH wire format). */
  key: Buffer;
}

/** The verdict on a host key. */
export type HostKeyVerdict = { status: 'known' } | { status: 'unknown' } | { status: 'changed'; line: number } | { status: 'revoked'; line: number };

/** The default known_hosts file: `$HOME/.ssh/known_hosts`. */
export function defaultKnownHostsFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.HOME ?? os.homedir(), '.ssh', 'known_hosts');
}

/** The name a host has in known_hosts: `host` on port 22, else `[host]:port`. */
export function knownHostName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** Parses known_hosts text; comments, blank and malformed lines are skipped. */
export function parseKnownHosts(text: string): KnownHostLine[] {
  const out: KnownHostLine[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const words = raw.trim().split(/\s+/);
    if (!words[0] || words[0].startsWith('#')) return;
    let marker: KnownHostLine['marker'];
    if (words[0].startsWith('@')) {
      const m = words.shift();
      if (m !== '@revoked') return;
      marker = 'revoked';
    }
    const [hosts, keyType, b64] = words;
    if (!hosts || !keyType || !b64) return;
    const key = Buffer.from(b64, 'base64');
    if (key.length === 0) return;
    out.push({ line: i + 1, marker, hosts, keyType, key });
  });
  return out;
}

function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

/** True when the line's host field names `name` (hashed, or a pattern list with negations). */
export function hostMatches(hosts: string, name: string): boolean {
  if (hosts.startsWith('|1|')) {
    const [, , salt, hash] = hosts.split('|');
    if (!salt || !hash) return false;
    const mac = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return mac === hash;
  }
  let matched = false;
  for (const pattern of hosts.split(',')) {
    const negated = pattern.startsWith('!');
    const re = globToRegExp(negated ? pattern.slice(1) : pattern);
    if (!re.test(name)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

/** The key type named inside an SSH public key blob. */
export function blobKeyType(blob: Buffer): string {
  if (blob.length < 4) return '';
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString('latin1');
}

/** `SHA256:...` fingerprint of a key blob, as ssh-keygen -l prints it. */
export function keyFingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The lines of `file` that name `name`; a missing file has none. */
export function linesFor(file: string, name: string): KnownHostLine[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return parseKnownHosts(text).filter((l) => hostMatches(l.hosts, name));
}

/** Checks a host key blob against the lines known for the host. */
export function checkHostKey(lines: KnownHostLine[], blob: Buffer): HostKeyVerdict {
  const revoked = lines.find((l) => l.marker === 'revoked' && l.key.equals(blob));
  if (revoked) return { status: 'revoked', line: revoked.line };
  const plain = lines.filter((l) => l.marker === undefined);
  if (plain.some((l) => l.key.equals(blob))) return { status: 'known' };
  const first = plain[0];
  return first ? { status: 'changed', line: first.line } : { status: 'unknown' };
}

/** ssh2's host key algorithm names for a known_hosts key type. */
export function hostKeyAlgorithms(keyType: string): string[] {
  if (keyType === 'ssh-rsa') return ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
  return [keyType];
}
