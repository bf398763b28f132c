/** Options of SFTP connections. */
import type { LogEntry } from '../control.js';
import type { CallOptions } from '../options.js';

/** How to connect to an SFTP server and log in. Every field is optional except `host`. */
export interface SftpConnectOptions extends CallOptions {
  /** Selects SFTP when connecting with an options object. */
  protocol: 'sftp';
  /** Host name or IP address (IPv6 without brackets). */
  host: string;
  /** Port; 22 by default. */
  port?: number;
  /** User name; `$USER` (the local user) by default. */
  user?: string;
  /**
   * Password, or a function called only if the server asks for one after
   * the keys were refused. `anonymous` and `ftp` default to `anonymous@`.
   */
  password?: string | (() => Promise<string>);
  /** A private key (OpenSSH or PEM text), tried before the identity files. */
  privateKey?: string | Buffer;
  /**
   * Private key files to offer. When omitted, `~/.ssh/id_ed25519`,
   * `id_ecdsa` and `id_rsa` are offered when present and unencrypted.
   */
  identityFiles?: string[];
  /** Passphrase for encrypted keys; without it they are skipped with a warning. */
  passphrase?: string;
  /** known_hosts file to check the host key against; `$HOME/.ssh/known_hosts` by default. */
  knownHostsFile?: string;
  /** Accept any host key (like `ssh -o StrictHostKeyChecking=no`, `curl -k`). */
  insecure?: boolean;
  /** Milliseconds to wait for the connection and the login (default 30000). */
  timeout?: number;
  /** Called with one line for each non-fatal problem (a skipped key). */
  onWarning?: (message: string) => void;
  /** Receives a line for each step of the connection (`info`), for --verbose. */
  log?: (entry: LogEntry) => void;
}
