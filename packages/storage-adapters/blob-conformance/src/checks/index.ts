import { concurrentDifferentContent, concurrentSameContent, readDuringDelete } from './concurrency.js';
import { abortedPut, failingLargeSource, failingSmallSource, failureIsolated } from './failure.js';
import { closedRefuses, presignExpires, presignServes, survivesReopen } from './optional.js';
import { byteRanges, cancelledRead, suffixRanges, unsatisfiable } from './ranges.js';
import {
  deleteIdempotent,
  emptyBlob,
  headDescribes,
  listsStored,
  missing,
  putAfterDelete,
  roundTrip,
  samePutTwice,
} from './round-trip.js';
import { largeBlobStreams } from './streaming.js';

/** Every check of the blob store contract, by name. */
export const blobChecks = {
  roundTrip,
  emptyBlob,
  samePutTwice,
  headDescribes,
  listsStored,
  missing,
  deleteIdempotent,
  putAfterDelete,
  byteRanges,
  suffixRanges,
  unsatisfiable,
  cancelledRead,
  largeBlobStreams,
  concurrentSameContent,
  concurrentDifferentContent,
  readDuringDelete,
  failingSmallSource,
  failingLargeSource,
  abortedPut,
  failureIsolated,
  presignServes,
  presignExpires,
  survivesReopen,
  closedRefuses,
};

/** The name of one check in {@link blobChecks}. */
export type BlobCheckName = keyof typeof blobChecks;
