/**
 * The Vfs contract against a backend without append, offset writes and
 * setMtime (a MemoryVfs with those turned off): those operations must be
 * refused as 'unsupported', everything else must still hold.
 */
import { MemoryVfs, vfsContractSuite } from '../../src/vfs/index.js';

vfsContractSuite('memory without append, resumeUpload, setMtime', () =>
  Promise.resolve({ vfs: new MemoryVfs({}, { capabilities: { append: false, resumeUpload: false, setMtime: false } }) }),
);
