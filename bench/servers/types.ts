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

/** Everything a launcher needs. */
export interface StartEnv {
  dataset: DatasetPaths;
  /** Scratch directory for this server's config and logs. */
  workDir: string;
  cert: CertFiles;
  /** CPU list for taskset (e.g. "0"). */
  cpu: string;
  port: number;
  passive: [number, number];
  /** A snapshot of Wharf's build (bin/, dist/src/) taken at the start, so every repetition runs the same code. */
  wharfRoot?: string;
  /** Set: run Node servers with --cpu-prof writing here. */
  profileDir?: string;
}

/** A started server. */
export interface RunningServer {
  pid: number;
  /** Its cpuacct cgroup, when the machine has them: CPU is read there. */
  cgroup?: string;
  host: string;
  port: number;
  /** Stops the server (its whole process group) and waits for it to exit. */
  stop(): Promise<void>;
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
  /** A note for the report (version, settings that matter). */
  note: string;
  start(env: StartEnv): Promise<RunningServer>;
}
