/** Options accepted by {@link connect} and the per-call transfer options. */
import type tls from 'node:tls';
import type { LogEntry } from './control.js';
import type { TransferProgress } from './transfer.js';

/** How to connect and log in. Every field is optional except `host`. */
export interface ConnectOptions {
  /** Host name or IP address (IPv6 without brackets). */
  host: string;
  /** Port; 21 (990 for implicit TLS) by default. */
  port?: number;
  /** User name; `anonymous` by default. */
  user?: string;
  /** Password; for anonymous, an e-mail-like `anonymous@` by default. */
  password?: string;
  /**
   * TLS: `false` (default) for plain FTP, `true` or `'explicit'` for AUTH TLS
   * followed by PBSZ 0/PROT P (never falls back to clear text), `'implicit'`
   * for TLS from the first byte (ftps://).
   */
  secure?: boolean | 'explicit' | 'implicit';
  /** Extra TLS options (e.g. `ca` for a private CA, `servername`). */
  tlsOptions?: tls.ConnectionOptions;
  /** Accept a certificate that cannot be verified (like curl -k). */
  insecure?: boolean;
  /** Passive mode (default true); false for active mode (EPRT/PORT). */
  passive?: boolean;
  /** Milliseconds to wait for a connection or a reply (default 30000). */
  timeout?: number;
  /** Milliseconds a data connection may stall (default: `timeout`). */
  dataTimeout?: number;
  /** Cancels the connection attempt, and every later operation, when aborted. */
  signal?: AbortSignal;
  /** Log in at connect (default true); false leaves it to {@link FtpClient.login}. */
  login?: boolean;
  /** Receives the protocol dialogue; PASS arguments are masked. */
  log?: (entry: LogEntry) => void;
}

/** Options of every client call. */
export interface CallOptions {
  /** Cancels this call; the connection is closed, as the dialogue is then out of step. */
  signal?: AbortSignal;
}

/** Options of downloads and uploads. */
export interface TransferOptions extends CallOptions {
  /** Resume offset (REST). For a download to a file path, existing bytes past it are dropped. */
  offset?: number;
  /** Receives progress events (bytes, total, rate). */
  onProgress?: (progress: TransferProgress) => void;
  /** Least milliseconds between progress events (default 100; 0 = every chunk). */
  progressInterval?: number;
  /** Transfer type: `binary` (default) or `ascii` (line endings converted). */
  mode?: 'binary' | 'ascii';
}

/** Options of downloads. */
export interface DownloadOptions extends TransferOptions {
  /**
   * Expected size of the whole remote file. When omitted, the client asks SIZE;
   * a transfer that moves a different number of bytes throws FtpIntegrityError.
   */
  expectedSize?: number;
}

/** Options of uploads. */
export interface UploadOptions extends TransferOptions {
  /** Append to the remote file (APPE) instead of replacing it. */
  append?: boolean;
}

/** Options of listings. */
export interface ListOptions extends CallOptions {
  /** Force LIST even if MLSD is available. */
  forceList?: boolean;
}
