/** The SFTP side of the client library. */
export { SftpClient, toFileInfo } from './client.js';
export { connectSftp } from './connect.js';
export { SftpAuthError, SftpError, SftpHostKeyError } from './errors.js';
export { checkHostKey, hostMatches, keyFingerprint, knownHostName, parseKnownHosts, type HostKeyVerdict, type KnownHostLine } from './known-hosts.js';
export type { SftpConnectOptions } from './options.js';
export { parseSftpUrl, type ParsedSftpUrl } from './url.js';
