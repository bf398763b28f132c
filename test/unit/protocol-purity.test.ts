/**
 * src/protocol is pure: no sockets, no files. It may use the `Buffer`
 * global but imports no Node module at all (until the lint rule lands,
 * this test enforces it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Compiled to dist/test/unit/: the sources are three levels up.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const protocolDir = path.join(root, 'src', 'protocol');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) return sources(p);
    return d.name.endsWith('.ts') ? [p] : [];
  });
}

/** Every module specifier of a TypeScript source: static, type-only, re-exports, dynamic and require. */
function specifiers(text: string): string[] {
  const out: string[] = [];
  const patterns = [
    /\b(?:import|export)\b[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const re of patterns) for (const m of text.matchAll(re)) out.push(m[1] as string);
  return out;
}

test('specifiers() finds every form of import', () => {
  const text = [
    "import { isIPv4 } from 'node:net';",
    "import type { Socket } from 'net';",
    'export { x } from "node:fs";',
    "import 'node:process';",
    "const m = await import('node:os');",
    "const c = require('child_process');",
    "import {\n  a,\n  b,\n} from './local.js';",
  ].join('\n');
  assert.deepEqual(specifiers(text).sort(), ['./local.js', 'child_process', 'net', 'node:fs', 'node:net', 'node:os', 'node:process'].sort());
});

test('src/protocol imports only its own modules', () => {
  const files = sources(protocolDir);
  assert.ok(files.length >= 8, `found the sources in ${protocolDir}`);
  const offenders: string[] = [];
  for (const file of files) {
    for (const spec of specifiers(fs.readFileSync(file, 'utf8'))) {
      if (!spec.startsWith('./') && !spec.startsWith('../')) offenders.push(`${path.relative(root, file)}: ${spec}`);
      else if (!path.resolve(path.dirname(file), spec).startsWith(protocolDir + path.sep)) offenders.push(`${path.relative(root, file)}: ${spec} (outside src/protocol)`);
    }
  }
  assert.deepEqual(offenders, []);
});
