/**
 * What the harness knows about each server under test: how to start it on
 * loopback pinned to one core, what it supports, and how to account for it
 * (a forking server is measured over its whole process tree).
 */

/** The shared dataset every server serves (see dataset.ts). */
export interface DatasetPaths {
  /** The anonymous root (not writable by the ftp user). */
  root: string;
  /** Relative name of the writable upload directory inside root. */
  incoming: string;
}

/** PEM files of the self-signed certificate every TLS server uses. */
export interface CertFiles {
  cert: string;
  key: string;
}

/** The SSH material of a run (made with the dataset): host keys for both SFTP servers and the client's key. */
export interface SshFiles {
  /** Wharf's host key, written by `wharf gen-hostkey`. */
  wharfHostKey: string;
  /** sshd's ed25519 host key, written by ssh-keygen. */
  sshdHostKey: string;
  /** The client's private key (ed25519, no passphrase) and its public key line. */
  clientKey: string;
  clientPub: string;
  /** A `wharf hash-password` hash for the SFTP user (which logs in by key). */
  passwordHash: string;
  /** The user the SFTP scenarios log in as, on Wharf (a [[users]] entry) and on sshd (root). */
  user: { wharf: string; openssh: string };
}

/**
 * The protocols a server is measured on: `s3` is FTP in front of the S3
 * scenarios' bucket, `s3-sftp` and `s3-http` SFTP and HTTP in front of it.
 */
export type Protocol = 'ftp' | 'sftp' | 'http' | 's3' | 's3-sftp' | 's3-http';

/** Everything a launcher needs. */
export interface StartEnv {
  dataset: DatasetPaths;
  /** Scratch directory for this server's config and logs. */
  workDir: string;
  cert: CertFiles;
  /** CPU list for taskset (e.g. "0"). */
  cpu: string;
  port: number;
  /** A second free port for a server that also serves HTTP (Wharf's `[http]`); nginx listens on `port`. */
  httpPort: number;
  passive: [number, number];
  /** A snapshot of Wharf's build (bin/, dist/src/) taken at the start, so every repetition runs the same code. */
  wharfRoot?: string;
  /** SSH keys: Wharf turns on `[sftp]` when they are given; sshd needs them. */
  ssh?: SshFiles;
  /** Set: run Node servers with --cpu-prof writing here. */
  profileDir?: string;
}

/** A started server. */
export interface RunningServer {
  pid: number;
  /** Its cpuacct cgroup, when the machine has them: CPU is read there. */
  cgroup?: string;
  /** The other processes of a server made of several (rclone-s3: `serve sftp` and `serve http`), all in its cgroup. */
  companions?: number[];
  host: string;
  port: number;
  /** The SSH/SFTP port, for a server that serves SFTP... */
  sftpPort?: number;
  /** ...and the user the SFTP scenarios log in as there (with the run's client key). */
  sftpUser?: string;
  /** The HTTP port, for a server that serves HTTP (Wharf's web view, nginx). */
  httpPort?: number;
  /** Set for the S3 scenarios' direct-SDK ceiling, which is no server: the scenarios talk S3 to the store themselves. */
  direct?: boolean;
  /**
   * Called by the harness after a measured piece of work and before the
   * server's CPU is read again: waits until work the server deferred (hooks
   * still queued) is done, so its CPU is counted. Returns a remark or null.
   */
  settle?(): Promise<string | null>;
  /** Stops the server (its whole process group) and waits for it to exit. */
  stop(): Promise<void>;
  /** For a server whose limits live in Redis (`wharf-redis`): Redis's command count and CPU so far. */
  redisStats?(): Promise<{ commands: number; scripts: number; cpuSeconds: number }>;
}

/** One server under test. */
export interface ServerSpec {
  name: string;
  /** FTPS (AUTH TLS + PROT P) is measured. */
  tls: boolean;
  /** MLSD is measured. */
  mlsd: boolean;
  /** Forks per session: CPU and memory are summed over the process tree. */
  forks: boolean;
  /**
   * Start the TLS handshake of a data connection as soon as it is connected,
   * before the transfer command. By default it starts after the 150 reply,
   * as curl does; ftp-srv only replies 150 once the handshake is done.
   */
  earlyDataTls?: boolean;
  /** The biggest directory its scaling listings are run on (all when absent). */
  maxScaleListing?: number;
  /** A note for the report (version, settings that matter). */
  note: string;
  /** What it is measured on; FTP only when absent. */
  protocols?: Protocol[];
  /**
   * Set for a variant of another server (e.g. `wharf-console` of `wharf`):
   * the report compares it with that server (variant ÷ base) instead of
   * treating it as a peer.
   */
  variantOf?: string;
  start(env: StartEnv): Promise<RunningServer>;
}
