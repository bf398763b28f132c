/**
 * Loading the config: TOML text to a validated, typed object with paths
 * resolved against the file's directory. Every problem becomes one line
 * naming the setting.
 */
import { readFile, stat, access } from 'node:fs/promises';
import { constants } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import type { z } from 'zod';
import { configSchema, PERMISSIONS, type Permission, type RawConfig } from './schema.js';
import { isLocalSpec, type StorageSpec } from './storage.js';

/** A config that cannot be used; `problems` holds one line each. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

/** A user account, ready to serve. */
export interface UserConfig {
  name: string;
  password: string;
  /** A directory (absolute), a storage URL or a Vfs object. */
  home: StorageSpec;
  permissions: ReadonlySet<Permission>;
  maxRate: number;
  keepPartialUploads: boolean;
  /** OpenSSH public key lines allowed to log in over SFTP. */
  authorizedKeys: string[];
}

/** The validated config with absolute paths. */
export interface WharfConfig {
  server: RawConfig['server'];
  tls?: NonNullable<RawConfig['tls']>;
  anonymous?: NonNullable<RawConfig['anonymous']>;
  /** SFTP, when configured; `host` defaults to the server's. */
  sftp?: NonNullable<RawConfig['sftp']> & { host: string };
  /** The web view, when configured; `host` defaults to the server's. */
  http?: NonNullable<RawConfig['http']> & { host: string };
  users: UserConfig[];
  /** The operator's console, when configured. */
  admin?: NonNullable<RawConfig['admin']>;
  /** `[[hooks]]`, with a relative program path made absolute. */
  hooks: RawConfig['hooks'];
  log: RawConfig['log'];
  /** `[storage]`: the object store of `s3://` roots and homes. */
  storage?: NonNullable<RawConfig['storage']>;
  /** `[state]`: limits and bans shared through Redis, when configured. */
  state?: NonNullable<RawConfig['state']>;
}

function issuePath(path: PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('') || '(top level)';
}

function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const where = issuePath(issue.path);
    if (issue.code === 'unrecognized_keys') return `${where === '(top level)' ? '' : where + ': '}unknown setting ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    return `${where}: ${issue.message}`;
  });
}

/**
 * Validates a parsed TOML document. `baseDir` is the directory relative
 * paths are resolved against.
 */
export function buildConfig(doc: unknown, baseDir: string): WharfConfig {
  const parsed = configSchema.safeParse(doc);
  if (!parsed.success) throw new ConfigError(describeIssues(parsed.error));
  const c = parsed.data;
  const abs = (p: string) => resolve(baseDir, p);
  const place = (p: StorageSpec) => (isLocalSpec(p) ? abs(p) : p);
  return {
    server: c.server,
    tls: c.tls && { ...c.tls, cert: abs(c.tls.cert), key: abs(c.tls.key) },
    anonymous: c.anonymous?.enabled ? { ...c.anonymous, root: place(c.anonymous.root) } : undefined,
    users: c.users.map((u) => ({
      name: u.name,
      password: u.password,
      home: place(u.home),
      permissions: new Set<Permission>(u.permissions.includes('*') ? PERMISSIONS : (u.permissions as Permission[])),
      maxRate: u.max_rate,
      keepPartialUploads: u.keep_partial_uploads,
      authorizedKeys: u.authorized_keys,
    })),
    sftp: c.sftp && { ...c.sftp, host: c.sftp.host ?? c.server.host, host_keys: c.sftp.host_keys.map(abs) },
    http: c.http && { ...c.http, host: c.http.host ?? c.server.host },
    admin: c.admin,
    hooks: c.hooks.map((h) => (h.command ? { ...h, command: h.command.map((a, i) => (i === 0 && a.includes('/') ? abs(a) : a)) } : h)),
    log: { ...c.log, transfer_log: c.log.transfer_log && abs(c.log.transfer_log) },
    storage: c.storage,
    state: c.state,
  };
}

/** Reads and validates a config file. */
export async function loadConfigFile(file: string): Promise<WharfConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`${file}: cannot read the config file (${(err as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
  let doc: unknown;
  try {
    doc = parseToml(text);
  } catch (err) {
    const where = err instanceof TomlError ? ` at line ${err.line}, column ${err.column}` : '';
    const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new ConfigError([`${file}: invalid TOML${where}: ${msg}`]);
  }
  try {
    return buildConfig(doc, dirname(resolve(file)));
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(err.problems.map((p) => `${file}: ${p}`));
    throw err;
  }
}

async function checkDir(path: string, setting: string, write: boolean): Promise<string | null> {
  try {
    const st = await stat(path);
    if (!st.isDirectory()) return `${setting}: ${path} is not a directory`;
    await access(path, constants.R_OK | constants.X_OK | (write ? constants.W_OK : 0));
    return null;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return `${setting}: ${path} ${code === 'ENOENT' ? 'does not exist' : 'is not accessible'}`;
  }
}

async function checkFile(path: string, setting: string): Promise<string | null> {
  try {
    await access(path, constants.R_OK);
    return null;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return `${setting}: ${path} ${code === 'ENOENT' ? 'does not exist' : 'is not readable'}`;
  }
}

/** Checks what the config points at on disk: roots, homes, certificate files. */
export async function checkConfigPaths(config: WharfConfig): Promise<string[]> {
  const checks: Promise<string | null>[] = [];
  const anon = config.anonymous;
  if (anon && isLocalSpec(anon.root)) {
    checks.push(checkDir(anon.root, 'anonymous.root', false));
    if (anon.upload_dir) checks.push(checkDir(resolve(anon.root, anon.upload_dir), 'anonymous.upload_dir', true));
  }
  config.users.forEach((u, i) => {
    if (isLocalSpec(u.home)) checks.push(checkDir(u.home, `users[${i}].home`, false));
  });
  if (config.tls) {
    checks.push(checkFile(config.tls.cert, 'tls.cert'), checkFile(config.tls.key, 'tls.key'));
  }
  config.sftp?.host_keys.forEach((k, i) => checks.push(checkFile(k, `sftp.host_keys[${i}]`)));
  if (!config.anonymous && config.users.length === 0) checks.push(Promise.resolve('no anonymous access and no [[users]]: nobody could log in'));
  return (await Promise.all(checks)).filter((p): p is string => p !== null);
}
