/**
 * BENCH_PROFILE=1: runs Wharf under `node --cpu-prof` for the big RETR, the
 * big STOR, the small files, the session rate and the biggest LIST (or the
 * ids in BENCH_PROFILE_SCENARIOS, SFTP and HTTP ones included), one server
 * process each so their profiles stay apart; then summarises each
 * .cpuprofile: self time by function and by module. BENCH_PROFILE_SERVER
 * profiles one of Wharf's variants instead (`wharf-console`,
 * `wharf-hooks`). Writes bench/raw/profile-*.cpuprofile and
 * bench/raw/profile.md.
 */
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Dataset } from './dataset.js';
import type { Options } from './options.js';
import { allScenarios } from './scenarios/index.js';
import type { Scenario } from './scenarios/common.js';
import { freePort } from './servers/launch.js';
import { SERVERS } from './servers/index.js';
import type { ServerSpec } from './servers/types.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time (ms) by key, biggest first. */
function top(map: Map<string, number>, n: number): [string, number][] {
  return [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);
}

function shortUrl(url: string): string {
  if (!url) return '';
  const i = url.indexOf('/dist/');
  if (i >= 0) return url.slice(i + 1);
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm);
  return url.replace(/^file:\/\//, '');
}

/** Summarises one profile as markdown. */
export function summariseProfile(p: CpuProfile, title: string, n = 25): string {
  const byId = new Map(p.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of p.nodes) for (const c of node.children ?? []) parent.set(c, node.id);
  const keyOf = (node: ProfileNode) => {
    const url = shortUrl(node.callFrame.url);
    return `${node.callFrame.functionName || '(anonymous)'} ${url ? `${url}:${node.callFrame.lineNumber + 1}` : ''}`.trim();
  };
  const inclusive = new Map<string, number>();
  const selfByFn = new Map<string, number>();
  const selfByModule = new Map<string, number>();
  let total = 0;
  p.samples.forEach((id, i) => {
    const ms = (p.timeDeltas[i] ?? 0) / 1000;
    const node = byId.get(id);
    if (!node) return;
    total += ms;
    const cf = node.callFrame;
    const url = shortUrl(cf.url);
    const fnKey = `${cf.functionName || '(anonymous)'} ${url ? `${url}:${cf.lineNumber + 1}` : ''}`.trim();
    selfByFn.set(fnKey, (selfByFn.get(fnKey) ?? 0) + ms);
    const mod = url || cf.functionName;
    selfByModule.set(mod, (selfByModule.get(mod) ?? 0) + ms);
    // Inclusive time of Wharf's own functions: each distinct one on the stack once.
    const seen = new Set<string>();
    for (let n: ProfileNode | undefined = node, d = 0; n && d < 1000; n = byId.get(parent.get(n.id) ?? -1), d++) {
      if (!n.callFrame.url.includes('/dist/src/')) continue;
      const k = keyOf(n);
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + ms);
    }
  });
  const pct = (ms: number) => ((ms / total) * 100).toFixed(1);
  const lines = [`### ${title}`, '', `${total.toFixed(0)} ms sampled.`, '', '| self ms | % | function |', '|---:|---:|---|'];
  for (const [k, ms] of top(selfByFn, n)) lines.push(`| ${ms.toFixed(0)} | ${pct(ms)} | \`${k}\` |`);
  lines.push('', '| self ms | % | module |', '|---:|---:|---|');
  for (const [k, ms] of top(selfByModule, 15)) lines.push(`| ${ms.toFixed(0)} | ${pct(ms)} | \`${k}\` |`);
  lines.push('', '| total ms | % | Wharf function (inclusive) |', '|---:|---:|---|');
  for (const [k, ms] of top(inclusive, 20)) lines.push(`| ${ms.toFixed(0)} | ${pct(ms)} | \`${k}\` |`);
  return `${lines.join('\n')}\n`;
}

/** Profiles one server process running `chain` in order; the profile covers the whole process. */
async function profileOne(spec: ServerSpec, chain: Scenario[], opts: Options, ds: Dataset, workDir: string, rawDir: string): Promise<string> {
  const id = chain.map((sc) => sc.id).join('+');
  const profileDir = path.join(workDir, `prof-${id}`);
  await mkdir(profileDir, { recursive: true });
  const server = await spec.start({
    dataset: ds,
    workDir,
    cert: ds.cert,
    cpu: opts.serverCpu,
    port: await freePort(),
    httpPort: await freePort(),
    passive: [29000, 29999],
    profileDir,
    ...(ds.ssh ? { ssh: ds.ssh } : {}),
  });
  const results: string[] = [];
  try {
    for (const sc of chain) {
      const metrics = await sc.run({ server, spec, opts, dataset: ds, rep: 0, note: (msg) => process.stdout.write(`note: ${msg}\n`), noise: () => undefined });
      results.push(
        `${sc.id}: ${Object.entries(metrics)
          .map(([k, v]) => `${k}=${v.toPrecision(4)}`)
          .join(', ')}`,
      );
    }
  } finally {
    await server.stop();
  }
  // One file per thread: the main thread, then any worker threads.
  const files = (await readdir(profileDir)).filter((f) => f.endsWith('.cpuprofile')).sort();
  if (files.length === 0) throw new Error(`no .cpuprofile written in ${profileDir} (did the server exit cleanly?)`);
  const parts: string[] = [];
  for (const [i, file] of files.entries()) {
    const src = path.join(profileDir, file);
    const suffix = i === 0 ? '' : `-thread${i}`;
    await copyFile(src, path.join(rawDir, `profile-${id}${suffix}.cpuprofile`));
    const prof = JSON.parse(await readFile(src, 'utf8')) as CpuProfile;
    const who = files.length > 1 ? ` [${i === 0 ? 'first thread' : `thread ${i + 1}`} of ${files.length}]` : '';
    parts.push(summariseProfile(prof, `${chain.map((sc) => sc.title).join(', then ')}${who} (${results.join('; ')})`));
  }
  return parts.join('\n');
}

/** Profiles Wharf on the big RETR and the small files; returns the exit code. */
export async function runProfile(opts: Options, ds: Dataset, workDir: string, rawDir: string): Promise<number> {
  await mkdir(workDir, { recursive: true });
  const parts = ['# Wharf CPU profiles (node --cpu-prof)', '', 'Self time by function and by module; the whole server process, start to stop.', ''];
  // Comma-separated runs; `a+b` runs a then b in the same server process.
  const runs = (process.env.BENCH_PROFILE_SCENARIOS ?? `retr-big,stor-big,small-files,sessions,list-${opts.listSizes[0] ?? 0}`).split(',');
  const all = allScenarios(opts);
  // Wharf, or one of its variants (BENCH_PROFILE_SERVER=wharf-hooks).
  const name = process.env.BENCH_PROFILE_SERVER ?? 'wharf';
  const spec = SERVERS.find((x) => x.name === name && (x.name === 'wharf' || x.variantOf === 'wharf'));
  if (!spec) throw new Error(`BENCH_PROFILE_SERVER: not Wharf or one of its variants: ${name}`);
  for (const run of runs) {
    const chain = run.split('+').map((id) => all.find((x) => x.id === id));
    if (chain.some((x) => !x)) throw new Error(`BENCH_PROFILE_SCENARIOS: unknown scenario in ${run}`);
    process.stdout.write(`profiling ${run}\n`);
    parts.push(await profileOne(spec, chain as Scenario[], opts, ds, workDir, rawDir));
  }
  const out = path.join(rawDir, 'profile.md');
  await writeFile(out, parts.join('\n'));
  process.stdout.write(`wrote ${out}\n`);
  return 0;
}
