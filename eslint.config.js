/**
 * ESLint 9 flat config: typescript-eslint (type-aware), size/complexity caps
 * for src/, and the layering of src/ as import bans (see docs/lint.md).
 */
import Module, { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';

const root = path.dirname(fileURLToPath(import.meta.url));

// The build uses TypeScript 7 (`typescript`, native `tsc`), which ships no
// JavaScript compiler API. typescript-eslint needs the classic API (peer range
// >=4.8.4 <6.1.0), installed as the alias `typescript-for-eslint`
// (npm:typescript@6.0.x). Inside the ESLint process only, every
// `require('typescript')` / `require('typescript/...')` is pointed at it.
// This must run before typescript-eslint loads, hence the dynamic import below.
const hooked = Symbol.for('wharf.eslint.classicTypeScript');
if (!Module[hooked]) {
  const require = createRequire(import.meta.url);
  const classicDir = path.dirname(require.resolve('typescript-for-eslint/package.json'));
  const resolveFilename = Module._resolveFilename;
  Module._resolveFilename = function (request, ...rest) {
    const mapped = typeof request === 'string' ? request.replace(/^typescript(?=\/|$)/, classicDir) : request;
    return resolveFilename.call(this, mapped, ...rest);
  };
  Module[hooked] = true;
}
const { default: tseslint } = await import('typescript-eslint');

const NODE_IO = ['node:net', 'node:fs', 'node:fs/promises', 'node:tls', 'node:dgram', 'node:child_process'];
const NODE_FS = ['node:fs', 'node:fs/promises'];

/** Both spellings of a Node built-in ('node:fs' and 'fs'), each with a message. */
const builtins = (names, why) => names.flatMap((name) => [name, name.slice('node:'.length)].map((n) => ({ name: n, message: why })));

/** A layering rule: `files` may not import `modules` (Node built-ins) nor anything matching `dirs` (globs on the specifier). */
const layer = ({ name, files, ignores = [], modules = [], dirs = [], why }) => ({
  name: `wharf/layering/${name}`,
  files,
  ignores,
  rules: {
    'no-restricted-imports': [
      'error',
      {
        paths: builtins(modules, why),
        patterns: dirs.length ? [{ group: dirs, message: why }] : [],
      },
    ],
  },
});

const TS = ['**/*.ts', '**/*.mts', '**/*.cts'];
const SRC = ['src/**/*.ts'];

export default defineConfig([
  globalIgnores(['dist/', 'node_modules/', 'bench/raw/', 'bench/.tools/', 'coverage/']),

  { name: 'wharf/js', files: ['**/*.{js,mjs,cjs}'], extends: [js.configs.recommended], languageOptions: { globals: globals.node } },

  {
    name: 'wharf/typescript',
    files: TS,
    extends: [js.configs.recommended, tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: root },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { args: 'after-used', argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'all', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports', fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/consistent-type-exports': ['error', { fixMixedExportsWithInlineTypeSpecifier: true }],
      // node:test's test()/describe()/it() return promises that the runner tracks itself.
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }] }],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      // Off: it flags async methods that implement Promise-returning interfaces (Vfs, shell commands)
      // with no await; the fix (dropping `async`) would turn rejections into synchronous throws.
      '@typescript-eslint/require-await': 'off',
    },
  },

  // Caps on the shape of src/ only; test/, bench/ and scripts/ get the TypeScript rules without them.
  {
    name: 'wharf/src-caps',
    files: SRC,
    rules: {
      complexity: ['error', { max: 15 }],
      'max-depth': ['error', { max: 4 }],
      'max-params': ['error', { max: 5 }],
      'max-lines': ['error', { max: 400, skipBlankLines: true, skipComments: true }],
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true, IIFEs: true }],
    },
  },

  // Layering. A file gets one `no-restricted-imports` setting: the last
  // matching block wins, so no two blocks below may match the same file
  // (src/vfs/local is listed apart from the rest of src/vfs for that reason).
  layer({
    name: 'protocol',
    files: ['src/protocol/**'],
    modules: NODE_IO,
    dirs: ['**/server/**', '**/client/**', '**/vfs/**', '**/cli/**', '**/config/**', '**/state/**', '**/events/**', '**/auth/**', '**/core/**', '**/host/**'],
    why: 'src/protocol is pure (codecs and parsers): no sockets, files or processes, and nothing from any other room of src/.',
  }),
  layer({
    name: 'server',
    files: ['src/server/**'],
    dirs: ['**/vfs/local/**', '**/vfs/memory/**', '**/cli/**', '**/client/**', '**/host/**', '**/core/storage*', '**/sftp/**', '**/http/**'],
    why: 'src/server (the FTP room) talks to storage through the Vfs interface only (no vfs/local, vfs/memory, core/storage) and does not depend on the other protocol rooms (sftp/, http/), cli/, client/ or host/.',
  }),
  layer({
    name: 'vfs',
    files: ['src/vfs/**'],
    ignores: ['src/vfs/local/**'],
    modules: NODE_FS,
    dirs: ['**/server/**', '**/client/**', '**/cli/**', '**/auth/**', '**/core/**', '**/host/**', '**/events/**', '**/state/**', '**/config/**'],
    why: 'Only src/vfs/local touches the file system; src/vfs depends only on protocol/.',
  }),
  layer({
    name: 'vfs-local',
    files: ['src/vfs/local/**'],
    dirs: ['**/server/**', '**/client/**', '**/cli/**', '**/auth/**', '**/core/**', '**/host/**', '**/events/**', '**/state/**', '**/config/**'],
    why: 'src/vfs depends only on protocol/.',
  }),
  layer({
    name: 'client',
    files: ['src/client/**'],
    dirs: ['**/server/**', '**/vfs/**', '**/cli/**', '**/auth/**', '**/core/**', '**/host/**', '**/events/**', '**/state/**', '**/config/**'],
    why: 'src/client is a standalone library on protocol/: nothing from the server side or cli/.',
  }),
  layer({
    name: 'auth-config',
    files: ['src/auth/**', 'src/config/**'],
    dirs: ['**/server/**', '**/client/**', '**/cli/**', '**/core/**', '**/host/**', '**/vfs/local/**', '**/vfs/memory/**'],
    why: 'src/auth and src/config sit below the core and the protocols: nothing from server/, client/, cli/, core/, host/ or a storage backend.',
  }),
  layer({
    name: 'state-events',
    files: ['src/state/**', 'src/events/**'],
    dirs: ['**/server/**', '**/client/**', '**/cli/**', '**/core/**', '**/host/**', '**/auth/**', '**/vfs/**'],
    why: 'src/state and src/events are shared services below every protocol: nothing from server/, client/, cli/, core/, host/, auth/ or vfs/.',
  }),
  layer({
    name: 'sftp',
    files: ['src/sftp/**'],
    dirs: ['**/server/**', '**/http/**', '**/client/**', '**/cli/**', '**/host/**', '**/vfs/local/**', '**/vfs/memory/**', '**/core/storage*'],
    why: 'src/sftp is a protocol room: it talks to the core and the Vfs interface only, never to another protocol room (server/, http/), storage backends, client/, cli/ or host/.',
  }),
  layer({
    name: 'http',
    files: ['src/http/**'],
    modules: NODE_FS,
    dirs: ['**/server/**', '**/sftp/**', '**/client/**', '**/cli/**', '**/host/**', '**/vfs/local/**', '**/vfs/memory/**', '**/core/storage*'],
    why: 'src/http (the web view) is a protocol room: it reads the archive through the Vfs only (never node:fs), and talks to the core, never to another protocol room (server/, sftp/), storage backends, client/, cli/ or host/.',
  }),
  layer({
    name: 'admin',
    files: ['src/admin/**'],
    dirs: ['**/server/**', '**/sftp/**', '**/http/**', '**/client/**', '**/cli/**', '**/host/**', '**/vfs/local/**', '**/vfs/memory/**', '**/core/storage*'],
    why: 'src/admin (the operator console) works on the core, the events and the shared state: it knows no protocol room; host/ hands it their sessions.',
  }),
  layer({
    name: 'core',
    files: ['src/core/**'],
    dirs: ['**/server/**', '**/sftp/**', '**/http/**', '**/client/**', '**/cli/**', '**/host/**'],
    why: 'src/core is what every protocol shares: it knows no protocol room (server/, sftp/, http/), nor client/, cli/ or host/.',
  }),
  layer({
    name: 'host',
    files: ['src/host/**'],
    dirs: ['**/client/**', '**/cli/**'],
    why: 'src/host builds the server from the core and the protocol rooms; it does not depend on client/ or cli/.',
  }),

  // Only the CLI owns the process (exit, signal handlers); no dynamic import() that would bypass the layering.
  {
    name: 'wharf/process-owned-by-cli',
    files: SRC,
    ignores: ['src/cli/**'],
    rules: {
      'no-restricted-properties': ['error', { object: 'process', property: 'exit', message: 'Only src/cli may end the process; return or throw instead.' }],
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.object.name='process'][callee.property.name=/^(on|once|addListener|prependListener|prependOnceListener)$/][arguments.0.value=/^SIG/]",
          message: 'Only src/cli installs signal handlers; expose a close()/stop() for it to call.',
        },
        {
          selector: 'ImportExpression',
          message: 'No dynamic import() outside src/cli: no-restricted-imports (the layering) cannot see it.',
        },
      ],
    },
  },
]);
