/**
 * `wharf/server`: the server as a library. Create it from a config object
 * shaped like the TOML file (a root or home may be a Vfs), listen, subscribe
 * to its typed events, close it.
 *
 *     const server = createServer({ anonymous: { enabled: true, root: new MemoryVfs({ 'hello.txt': 'hi\n' }) } });
 *     const { ftp } = await server.listen();
 *     server.on('transfer', (e) => console.log(e.direction, e.path, e.bytes));
 *     await server.close();
 */
export { createServer, WharfServer, type ListeningAddresses, type ServerConfigInput, type WharfServerOptions } from './server.js';
export type {
  BanEvent,
  ConnectEvent,
  FileEvent,
  LoginEvent,
  LoginFailedEvent,
  LoginFailure,
  Protocol,
  RefusedEvent,
  RenameEvent,
  ServerEventMap,
  ServerEventName,
  SessionRef,
  TransferEvent,
  TransferProgressEvent,
  TransferStartEvent,
  UserRef,
} from '../events/events.js';
export { ConfigError, type WharfConfig } from '../config/load.js';
export { MemoryState } from '../state/memory.js';
export { RedisState, type RedisStateOptions } from '../state/redis.js';
export { StateUnavailableError, type Admission, type BanEntry, type FailureVerdict, type SharedState, type StateLimits } from '../state/types.js';
export { MemoryVfs } from '../vfs/memory/memoryVfs.js';
export { LocalVfs, type LocalVfsOptions } from '../vfs/local/localVfs.js';
export type { Vfs, VfsCapabilities, VfsStat, ReadHandle, Upload, WriteMode } from '../vfs/types.js';
export { VfsError, type VfsErrorCode } from '../vfs/errors.js';
