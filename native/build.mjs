// npm's install step for the root package: builds the native addon (native/*.c) with
// node-gyp (npm's own copy) against the headers installed beside node.
// Never fails the install: without a compiler, or off Linux, Wharf uses
// its JavaScript copy loop and says so once here.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

function main() {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.env.WHARF_SENDFILE === '0') return 'WHARF_SENDFILE=0';
  const gyp = process.env.npm_config_node_gyp || join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  if (!existsSync(gyp)) return 'node-gyp not found';
  const args = [gyp, 'rebuild', '--loglevel=error'];
  // The headers of a packaged node (PREFIX/include/node): no download needed.
  const prefix = join(dirname(process.execPath), '..');
  if (existsSync(join(prefix, 'include', 'node', 'node_api.h')) && existsSync(join(prefix, 'include', 'node', 'uv.h'))) args.push(`--nodedir=${prefix}`);
  const run = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 300_000 });
  if (run.status === 0) return null;
  const why = `${run.stderr || ''}${run.stdout || ''}`.split('\n').find((l) => /error|not found|ENOENT/i.test(l)) || `node-gyp exited ${run.status}`;
  return why.trim().slice(0, 200);
}

const why = main();
if (why) console.warn(`wharf: native addon not built (${why}); downloads use the JavaScript copy loop, files open through the thread pool and listings stat through Node`);
