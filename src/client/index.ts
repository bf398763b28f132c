/** The Wharf FTP and SFTP client library. */
export { FtpClient, type FtpClientEvents } from './client.js';
export { connect, connectRemote, isSftpUrl, type SftpUrl } from './connect.js';
export type { RemoteClient } from './remote.js';
export * from './sftp/index.js';
export { fromBuffer, toBuffer } from './streams.js';
export type { LogEntry } from './control.js';
export * from './errors.js';
export type { ConnectOptions, CallOptions, TransferOptions, DownloadOptions, UploadOptions, ListOptions } from './options.js';
export type { FtpReply } from './reply.js';
export { ReplyParser, ReplyParseError } from './reply.js';
export type { TransferProgress } from './transfer.js';
export { parseFtpUrl, type ParsedFtpUrl } from './url.js';
export * from './listing/index.js';
export { mirrorDown, mirrorUp, MirrorError, type MirrorOptions, type MirrorResult } from './mirror.js';
