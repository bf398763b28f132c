/** What FTP and SFTP clients have in common: the calls the CLI and mirroring use. */
import type { Readable, Writable } from 'node:stream';
import type { FileInfo } from './listing/index.js';
import type { CallOptions, DownloadOptions, UploadOptions } from './options.js';
import type { TransferProgress } from './transfer.js';

/**
 * A logged-in file transfer session, FTP ({@link FtpClient}) or SFTP
 * ({@link SftpClient}); both implement it with the same meaning.
 */
export interface RemoteClient {
  /** True once the connection is closed. */
  readonly closed: boolean;
  /** Lists a directory (the current one by default). */
  list(path?: string, options?: CallOptions): Promise<FileInfo[]>;
  /** Size of a remote file in bytes. */
  size(path: string, options?: CallOptions): Promise<number>;
  /** Last modification time of a remote file. */
  lastModified(path: string, options?: CallOptions): Promise<Date>;
  /** Sets a remote file's modification time; false when the server cannot. */
  setLastModified(path: string, date: Date, options?: CallOptions): Promise<boolean>;
  /** Changes the current remote directory. */
  cd(path: string, options?: CallOptions): Promise<void>;
  /** The current remote directory. */
  pwd(options?: CallOptions): Promise<string>;
  /** Creates a directory; with `recursive`, its missing parents too. */
  mkdir(path: string, options?: CallOptions & { recursive?: boolean }): Promise<void>;
  /** Deletes a remote file. */
  remove(path: string, options?: CallOptions): Promise<void>;
  /** Removes a remote directory; with `recursive`, its contents first. */
  removeDir(path: string, options?: CallOptions & { recursive?: boolean }): Promise<void>;
  /** Renames (moves) a remote file or directory. */
  rename(from: string, to: string, options?: CallOptions): Promise<void>;
  /** Downloads to a local path or a writable stream; resolves with the bytes received, checked against the size. */
  download(remotePath: string, destination: string | Writable, options?: DownloadOptions): Promise<number>;
  /** Uploads a local path or a readable stream; resolves with the bytes sent. */
  upload(source: string | Readable, remotePath: string, options?: UploadOptions): Promise<number>;
  /** Appends a local path or a readable stream to a remote file. */
  append(source: string | Readable, remotePath: string, options?: UploadOptions): Promise<number>;
  /** Ends the session politely; never throws. */
  close(): Promise<void>;
  /** Closes the connection at once. */
  destroy(): void;
  /** Progress of every transfer. */
  on(event: 'progress', listener: (progress: TransferProgress) => void): this;
  /** Removes a progress listener. */
  off(event: 'progress', listener: (progress: TransferProgress) => void): this;
}
