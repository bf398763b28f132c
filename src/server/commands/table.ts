/**
 * The command table: every verb the server knows, from each family. HELP
 * and FEAT are generated from it.
 */
import type { CommandSpec } from '../session/types.js';
import { authCommands } from './auth.js';
import { dataSetupCommands } from './dataSetup.js';
import { fileCommands } from './files.js';
import { infoCommands } from './info.js';
import { listingCommands } from './listing.js';
import { navigationCommands } from './navigation.js';

/** Builds the verb map from the command families (plus any extra, e.g. TLS). */
export function buildCommandTable(extra: CommandSpec[] = []): Map<string, CommandSpec> {
  const table = new Map<string, CommandSpec>();
  for (const spec of [...authCommands, ...infoCommands, ...navigationCommands, ...dataSetupCommands, ...fileCommands, ...listingCommands, ...extra]) {
    if (table.has(spec.verb)) throw new Error(`duplicate command ${spec.verb}`);
    table.set(spec.verb, spec);
  }
  return table;
}
