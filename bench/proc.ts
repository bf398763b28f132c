/**
 * Reading a server's resource use: CPU time from a cpuacct cgroup of its
 * own where the machine has one (it catches every process the server forks,
 * reaped or not), else from /proc (utime + stime of the process, of its live
 * descendants and of the children they have reaped); memory as Rss and Pss
 * from smaps_rollup, summed over the process tree.
 */
import { rmdirSync } from 'node:fs';
import { mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';

/** Clock ticks per second of /proc/PID/stat times (CLK_TCK; 100 on Linux). */
const TICKS_PER_SECOND = 100;

interface StatLine {
  pid: number;
  ppid: number;
  /** utime + stime + cutime + cstime, in ticks. */
  ticks: number;
  /** utime + cutime, in ticks. */
  userTicks: number;
}

/** Parses /proc/PID/stat; the command name may contain spaces and parens. */
function parseStat(pid: number, text: string): StatLine | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const f = text.slice(close + 2).split(' ');
  // f[0] is field 3 (state): field n is f[n - 3].
  const num = (n: number) => Number(f[n - 3] ?? 0);
  return { pid, ppid: num(4), ticks: num(14) + num(15) + num(16) + num(17), userTicks: num(14) + num(16) };
}

async function readStat(pid: number): Promise<StatLine | null> {
  try {
    return parseStat(pid, await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/** Every process on the machine as pid -> parent pid (one pass over /proc). */
async function parentMap(): Promise<Map<number, StatLine>> {
  const out = new Map<number, StatLine>();
  const names = await readdir('/proc');
  await Promise.all(
    names.map(async (name) => {
      const pid = Number(name);
      if (!Number.isInteger(pid) || pid <= 0) return;
      const s = await readStat(pid);
      if (s) out.set(pid, s);
    }),
  );
  return out;
}

/** The pids of `root` and all its live descendants. */
export async function processTree(root: number): Promise<StatLine[]> {
  const all = await parentMap();
  const children = new Map<number, StatLine[]>();
  for (const s of all.values()) {
    const list = children.get(s.ppid);
    if (list) list.push(s);
    else children.set(s.ppid, [s]);
  }
  const top = all.get(root);
  if (!top) return [];
  const out: StatLine[] = [];
  const stack = [top];
  for (let guard = 0; stack.length > 0 && guard < 1_000_000; guard++) {
    const s = stack.pop() as StatLine;
    out.push(s);
    for (const c of children.get(s.pid) ?? []) stack.push(c);
  }
  return out;
}

/**
 * CPU seconds used so far by a process tree. A single-process server is read
 * directly (cheap); `tree` walks /proc for forking servers.
 */
export async function cpuSeconds(pid: number, tree: boolean): Promise<number> {
  if (!tree) {
    const s = await readStat(pid);
    return s ? s.ticks / TICKS_PER_SECOND : 0;
  }
  const all = await processTree(pid);
  return all.reduce((sum, s) => sum + s.ticks, 0) / TICKS_PER_SECOND;
}

/** CPU seconds of a process tree: all, and user time only. */
export async function cpuSplit(pid: number, tree: boolean): Promise<{ total: number; user: number }> {
  const all = tree ? await processTree(pid) : [await readStat(pid)].filter((x): x is StatLine => x !== null);
  return {
    total: all.reduce((sum, s) => sum + s.ticks, 0) / TICKS_PER_SECOND,
    user: all.reduce((sum, s) => sum + s.userTicks, 0) / TICKS_PER_SECOND,
  };
}

/** Busy time of processes (user + nice + system) on one core so far, in seconds, from /proc/stat. */
export async function coreBusySeconds(core: number): Promise<number> {
  const text = await readFile('/proc/stat', 'utf8');
  const m = new RegExp(`^cpu${core} (\\d+) (\\d+) (\\d+)`, 'm').exec(text);
  return m ? (Number(m[1]) + Number(m[2]) + Number(m[3])) / TICKS_PER_SECOND : 0;
}

/** Memory of a process tree in KiB. */
export interface Memory {
  rssKiB: number;
  pssKiB: number;
  processes: number;
}

function field(text: string, name: string): number {
  const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

/** Sums Rss and Pss from smaps_rollup over the process tree of `pid`. */
export async function treeMemory(pid: number): Promise<Memory> {
  const procs = await processTree(pid);
  const parts = await Promise.all(
    procs.map(async (p) => {
      try {
        const text = await readFile(`/proc/${p.pid}/smaps_rollup`, 'utf8');
        return { rss: field(text, 'Rss'), pss: field(text, 'Pss') };
      } catch {
        return { rss: 0, pss: 0 };
      }
    }),
  );
  return {
    rssKiB: parts.reduce((s, p) => s + p.rss, 0),
    pssKiB: parts.reduce((s, p) => s + p.pss, 0),
    processes: procs.length,
  };
}

/** Rss and Pss of one process (smaps_rollup), or of its whole tree when `tree`; zeros if it is gone. */
export async function memoryOf(pid: number, tree: boolean): Promise<Memory> {
  if (tree) return treeMemory(pid);
  try {
    const text = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
    return { rssKiB: field(text, 'Rss'), pssKiB: field(text, 'Pss'), processes: 1 };
  } catch {
    return { rssKiB: 0, pssKiB: 0, processes: 0 };
  }
}

/** What {@link memorySampler} saw: the first sample, the peaks, and how many samples. */
export interface MemoryPeaks {
  baseRssKiB: number;
  basePssKiB: number;
  peakRssKiB: number;
  peakPssKiB: number;
  samples: number;
}

/**
 * Polls smaps_rollup of a server (its tree when `tree`: the forking
 * servers) every `everyMs` from now until stopped, and once more at the
 * stop; keeps the peaks of Rss and Pss. The first sample, taken before it
 * returns, is the baseline. The loop is bounded (`maxSamples`).
 */
export async function memorySampler(pid: number, tree: boolean, everyMs = 10, maxSamples = 200_000): Promise<{ stop(): Promise<MemoryPeaks> }> {
  const first = await memoryOf(pid, tree);
  const out: MemoryPeaks = { baseRssKiB: first.rssKiB, basePssKiB: first.pssKiB, peakRssKiB: first.rssKiB, peakPssKiB: first.pssKiB, samples: 1 };
  const take = (m: Memory) => {
    out.peakRssKiB = Math.max(out.peakRssKiB, m.rssKiB);
    out.peakPssKiB = Math.max(out.peakPssKiB, m.pssKiB);
    out.samples++;
  };
  let running = true;
  const loop = (async () => {
    while (running && out.samples < maxSamples) {
      await new Promise((r) => setTimeout(r, everyMs));
      if (running) take(await memoryOf(pid, tree));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      take(await memoryOf(pid, tree));
      return out;
    },
  };
}

/** Resident set of one process in KiB (VmRSS), 0 if it is gone. */
export async function rssKiB(pid: number): Promise<number> {
  try {
    return field(await readFile(`/proc/${pid}/status`, 'utf8'), 'VmRSS');
  } catch {
    return 0;
  }
}

/**
 * Samples the RSS of one process every `everyMs` until stopped; returns the
 * peak. Used to show whether a big listing keeps the server's memory flat.
 */
export function rssSampler(pid: number, everyMs = 25): { stop(): Promise<number> } {
  let peak = 0;
  let running = true;
  const loop = (async () => {
    for (let i = 0; running && i < 1_000_000; i++) {
      peak = Math.max(peak, await rssKiB(pid));
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      peak = Math.max(peak, await rssKiB(pid));
      return peak;
    },
  };
}

/** CPU seconds of this (load generator) process, user + system. */
export function selfCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

const CPUACCT = '/sys/fs/cgroup/cpuacct';
const groups = new Set<string>();

/** Creates a cpuacct cgroup (v1) for one server, or returns null where there is none. */
export async function createCpuGroup(name: string): Promise<string | null> {
  const dir = `${CPUACCT}/${name}`;
  try {
    await mkdir(dir);
    await readFile(`${dir}/cpuacct.usage`, 'utf8');
    groups.add(dir);
    return dir;
  } catch {
    return null;
  }
}

/** CPU seconds used so far by every task that ever ran in the group. */
export async function groupCpuSeconds(dir: string): Promise<number> {
  return Number((await readFile(`${dir}/cpuacct.usage`, 'utf8')).trim()) / 1e9;
}

/** Removes a group once its tasks are gone (bounded wait). */
export async function removeCpuGroup(dir: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    try {
      await rmdir(dir);
      groups.delete(dir);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Best-effort synchronous removal of every group still there (exit paths). */
export function removeCpuGroupsSync(): void {
  for (const dir of groups) {
    try {
      rmdirSync(dir);
    } catch {
      // Tasks still inside, or gone already.
    }
  }
  groups.clear();
}

/** Moves a running process into a group. */
export async function joinCpuGroup(dir: string, pid: number): Promise<void> {
  await writeFile(`${dir}/cgroup.procs`, String(pid));
}

/** A server to measure: its pid, and its cgroup when it has one. */
export interface MeasuredServer {
  pid: number;
  cgroup?: string;
  /** The other processes of a server made of several (rclone-s3), counted with it where there is no cgroup. */
  companions?: number[];
}

/** Total and user CPU seconds of a server: from its cgroup if any (user unknown there: = total), else /proc. */
export async function serverCpu(server: MeasuredServer, tree: boolean): Promise<{ total: number; user: number }> {
  if (server.cgroup) {
    const total = await groupCpuSeconds(server.cgroup);
    return { total, user: total };
  }
  const parts = await Promise.all([server.pid, ...(server.companions ?? [])].map((pid) => cpuSplit(pid, tree)));
  return { total: parts.reduce((sum, p) => sum + p.total, 0), user: parts.reduce((sum, p) => sum + p.user, 0) };
}
