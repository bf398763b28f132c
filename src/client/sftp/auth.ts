/**
 * The SSH login: which private keys to offer (given ones, then the usual
 * `~/.ssh/id_*` files, unencrypted only unless a passphrase is given), then
 * the password, asked for only when the server still wants one.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ssh2 from 'ssh2';
import type { AnyAuthMethod, AuthenticationType, AuthHandlerMiddleware, NextAuthHandler, ParsedKey } from 'ssh2';
import { FtpClientError } from '../errors.js';
import type { SftpConnectOptions } from './options.js';

/** The key files OpenSSH tries by default, in its order. */
const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

/** A private key ready to offer, and where it came from. */
export interface LoadedKey {
  source: string;
  key: ParsedKey;
}

function parse(data: string | Buffer, source: string, options: SftpConnectOptions, warn: (m: string) => void): LoadedKey | undefined {
  const parsed = ssh2.utils.parseKey(data, options.passphrase);
  const key = Array.isArray(parsed) ? (parsed[0] as ParsedKey | Error | undefined) : parsed;
  if (!key || key instanceof Error) {
    const why = key instanceof Error ? key.message : 'no key found';
    warn(/encrypted/i.test(why) && options.passphrase === undefined ? `skipping ${source}: it is encrypted and no passphrase was given` : `skipping ${source}: ${why}`);
    return undefined;
  }
  if (!key.isPrivateKey()) {
    warn(`skipping ${source}: not a private key`);
    return undefined;
  }
  return { source, key };
}

/**
 * The keys to offer: `privateKey`, then `identityFiles` (an unreadable one
 * is an error), then the default files that exist.
 */
export function loadKeys(options: SftpConnectOptions, env: NodeJS.ProcessEnv = process.env): LoadedKey[] {
  const warn = options.onWarning ?? (() => undefined);
  const keys: LoadedKey[] = [];
  if (options.privateKey !== undefined) {
    const k = parse(options.privateKey, 'the given private key', options, warn);
    if (k) keys.push(k);
  }
  for (const file of options.identityFiles ?? []) {
    let data: Buffer;
    try {
      data = fs.readFileSync(file);
    } catch (err) {
      throw new FtpClientError(`cannot read identity file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    const k = parse(data, file, options, warn);
    if (k) keys.push(k);
  }
  keys.push(...defaultKeys(options, env, warn));
  return keys;
}

/** The default key files (`~/.ssh/id_*`) that exist and parse, minus those already given. */
function defaultKeys(options: SftpConnectOptions, env: NodeJS.ProcessEnv, warn: (m: string) => void): LoadedKey[] {
  const sshDir = path.join(env.HOME ?? os.homedir(), '.ssh');
  const keys: LoadedKey[] = [];
  for (const name of DEFAULT_KEYS) {
    const file = path.join(sshDir, name);
    if (options.identityFiles?.includes(file)) continue;
    let data: Buffer;
    try {
      data = fs.readFileSync(file);
    } catch {
      continue;
    }
    const k = parse(data, file, options, warn);
    if (k) keys.push(k);
  }
  return keys;
}

/** The login user: the option, else the local user. */
export function defaultUser(options: SftpConnectOptions, env: NodeJS.ProcessEnv = process.env): string {
  if (options.user !== undefined) return options.user;
  return env.USER ?? env.LOGNAME ?? os.userInfo().username;
}

/**
 * An ssh2 auth handler: each key by `publickey`, then `password` (the
 * function form called only now, if the server still accepts passwords),
 * then give up. `onPasswordError` receives a failure of the password function.
 */
export function authHandler(user: string, keys: LoadedKey[], options: SftpConnectOptions, onPasswordError: (err: Error) => void): AuthHandlerMiddleware {
  const isAnonymous = user === 'anonymous' || user === 'ftp';
  const password = options.password ?? (isAnonymous ? 'anonymous@' : undefined);
  const queue: AnyAuthMethod[] = keys.map((k) => ({ type: 'publickey', username: user, key: k.key }));
  let passwordTried = false;
  return (left: AuthenticationType[] | null, _partial: boolean, next: NextAuthHandler): void => {
    const allowed = (m: AuthenticationType): boolean => left === null || left.includes(m);
    while (queue.length > 0) {
      const method = queue.shift() as AnyAuthMethod;
      if (allowed('publickey')) {
        next(method);
        return;
      }
    }
    if (passwordTried || password === undefined || !allowed('password')) {
      (next as unknown as (v: false) => void)(false);
      return;
    }
    passwordTried = true;
    if (typeof password === 'string') {
      next({ type: 'password', username: user, password });
      return;
    }
    password().then(
      (p) => next({ type: 'password', username: user, password: p }),
      (err: unknown) => {
        onPasswordError(err instanceof Error ? err : new FtpClientError(String(err)));
        (next as unknown as (v: false) => void)(false);
      },
    );
  };
}
