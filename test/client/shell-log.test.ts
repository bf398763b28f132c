/** How the ftp> shell echoes the dialogue (Shell.log), driven directly without a server. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import type { LogEntry } from '../../src/client/index.js';
import { LineReader } from '../../src/cli/client/shell/lines.js';
import { Shell } from '../../src/cli/client/shell/shell.js';

/** A shell with no connection whose output is collected; `feed` logs entries (`>` send, `<` recv, `*` info). */
function harness(): { shell: Shell; feed: (...lines: string[]) => string[] } {
  const input = new PassThrough();
  const output = new PassThrough();
  let printed = '';
  output.on('data', (d: Buffer) => (printed += d.toString()));
  const reader = new LineReader(input, new PassThrough(), false);
  reader.close();
  const shell = new Shell({ input, output, interactive: false }, { v: true }, reader);
  const direction = { '>': 'send', '<': 'recv', '*': 'info' } as const;
  const feed = (...lines: string[]): string[] => {
    printed = '';
    for (const l of lines) shell.log({ direction: direction[l[0] as keyof typeof direction], text: l.slice(2) } satisfies LogEntry);
    output.read();
    return printed === '' ? [] : printed.slice(0, -1).split('\n');
  };
  return { shell, feed };
}

test('shell log: replies are shown when verbose; commands only when debugging, the password masked', () => {
  const { shell, feed } = harness();
  assert.deepEqual(feed('> USER anonymous', '< 331 Send password', '> PASS secret', '< 230 Welcome'), ['331 Send password', '230 Welcome']);
  shell.debug = 1;
  assert.deepEqual(feed('> USER anonymous', '> PASS secret', '> PASSWORD x', '> pass lower'), ['---> USER anonymous', '---> PASS XXXX', '---> PASSWORD x', '---> pass lower']);
  assert.deepEqual(feed('* connected', '* 500 not a reply'), [], 'info lines are never shown');
});

test('shell log: with verbose off only 5xx lines are shown, without their code, as inetutils ftp shows them', () => {
  const { shell, feed } = harness();
  shell.verbose = false;
  assert.deepEqual(feed('> CWD x', '< 250 ok', '> CWD y', '< 399 odd', '< 400 busy', '< 550 no', '< abc'), ['no']);
  assert.deepEqual(feed('> DELE x', '< 550-Not here:', '<  indented', '< 550 gone'), ['Not here:', 'gone']);
});

test('shell log: replies to internal commands are hidden unless exposed or debugging', () => {
  const { shell, feed } = harness();
  assert.deepEqual(feed('> SIZE f', '< 213 5', '> size f', '< 213 5', '> MDTM f', '< 550 no', '> SYST', '< 215 UNIX', '> NOOP', '< 200 ok'), ['200 ok']);
  shell.exposed.add('SIZE');
  assert.deepEqual(feed('> SIZE f', '< 213 5', '> MDTM f', '< 213 2020'), ['213 5']);
  shell.exposed.clear();
  shell.debug = 1;
  assert.deepEqual(feed('> PWD', '< 257 "/"'), ['---> PWD', '257 "/"']);
  shell.debug = 0;
  // Nothing sent yet since: the verb of the last command still applies.
  assert.deepEqual(feed('< 257 "/"'), []);
});

test('shell log: the first line of a multi-line reply decides for all its lines', () => {
  const { shell, feed } = harness();
  assert.deepEqual(feed('> FEAT', '< 211-Features:', '< 500 inside', '<  UTF8', '< 211 End', '> STAT', '< 211-Status', '< 211'), ['211-Status', '211']);
  shell.verbose = false;
  // With verbose off the classic client looks at each line: those that start with 5 are shown.
  assert.deepEqual(feed('> STAT', '< 211-a', '< 550 inside', '< 211-b', '< 2110', '< 211 z', '< 550 next'), ['inside', 'next']);
  assert.deepEqual(feed('> STAT', '< 550-a', '< 211 b', '< 550 c', '< 226 d'), ['a', 'c']);
  assert.deepEqual(feed('> SIZE f', '< 550 hidden'), [], 'an internal command stays hidden');
});

test('shell log: while holding, 226/250 and every line after them wait', () => {
  const { shell, feed } = harness();
  shell.held = [];
  assert.deepEqual(feed('> LIST', '< 150 Here', '< 2260 no', '< 226-Done', '< more', '< 226 End', '< 200 after'), ['150 Here', '2260 no']);
  assert.deepEqual(shell.held, ['226-Done', 'more', '226 End', '200 after']);
  shell.held = [];
  shell.verbose = false;
  assert.deepEqual(feed('> LIST', '< 150 Here', '< 250 ok', '< 451 bad', '< 551 worse'), ['worse']);
  assert.deepEqual(shell.held, [], 'hidden lines are not held');
  shell.held = undefined;
  shell.silent = true;
  assert.deepEqual(feed('> LIST', '< 550 no'), [], 'silent: nothing at all');
});
