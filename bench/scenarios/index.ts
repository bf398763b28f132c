/**
 * The scenarios, in the order they run against each server (the memory of
 * idle sessions first, on a freshly started server; then the SFTP ones and
 * the HTTP ones, run only on servers that serve those; last the S3 ones,
 * over FTP, SFTP and HTTP, run only on the S3 front-ends of each and the
 * direct-SDK ceiling). The scaling scenarios, after the listings, are
 * opt-in: only run when named.
 */
import type { Options } from '../options.js';
import type { Scenario } from './common.js';
import { listing } from './listing.js';
import { scalingScenarios } from './scaling.js';
import { idleSessions, sessionRate } from './sessions.js';
import { httpScenarios } from './http.js';
import { s3Scenarios } from './s3.js';
import { s3FrontScenarios } from './s3Fronts.js';
import { sftpScenarios } from './sftp.js';
import { manyClients, retrBig, smallFiles, storBig } from './transfer.js';
import { stateLogins } from './state.js';

/** Every scenario for these options (before filtering by BENCH_SCENARIOS). */
export function allScenarios(opts: Options): Scenario[] {
  const list: Scenario[] = [idleSessions(opts), sessionRate(false, opts), retrBig(false, opts), storBig(false, opts), manyClients(false, opts), smallFiles(false, opts)];
  for (const n of opts.listSizes) list.push(listing('LIST', n), listing('MLSD', n));
  list.push(...scalingScenarios(opts));
  if (opts.tls) list.push(sessionRate(true, opts), retrBig(true, opts), storBig(true, opts), manyClients(true, opts), smallFiles(true, opts));
  list.push(...sftpScenarios(opts));
  list.push(...httpScenarios(opts));
  list.push(stateLogins(opts));
  list.push(...s3Scenarios(opts), ...s3FrontScenarios(opts));
  return list;
}
