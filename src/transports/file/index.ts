import type * as LockFile from './lockFile';

export {
  createFileTransport,
  type FileTransportOptions,
  DEFAULT_POLL_MS,
  DEFAULT_LOCK_TIMEOUT_MS,
} from './fileTransport';
export { ensureHistoryFile, type CreateHistory } from './historyPath';
export type { HeldLock, LockHolder, LockWaitOptions, TryLockResult } from './lockFile';

/**
 * The lock functions, loaded on first use: a command that only reads (`fk status`) never takes a
 * lock, and its start-up need not load them.
 */
const locks = (): typeof LockFile => require('./lockFile') as typeof LockFile;
export const lockFile: typeof LockFile.lockFile = (...args) => locks().lockFile(...args);
export const tryLockFile: typeof LockFile.tryLockFile = (...args) => locks().tryLockFile(...args);
export const describeHolder: typeof LockFile.describeHolder = (...args) => locks().describeHolder(...args);
export {
  readLines,
  readLinesFd,
  linesOfFd,
  firstRecordLine,
  firstRecordLineFd,
  anyLineStartsWith,
  type LineSink,
  type ReadLinesOptions,
} from './lineReader';
