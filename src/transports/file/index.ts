export {
  createFileTransport,
  type FileTransportOptions,
  DEFAULT_POLL_MS,
  DEFAULT_LOCK_TIMEOUT_MS,
} from './fileTransport';
export { ensureHistoryFile, type CreateHistory } from './historyPath';
export {
  lockFile,
  tryLockFile,
  describeHolder,
  type HeldLock,
  type LockHolder,
  type LockWaitOptions,
  type TryLockResult,
} from './lockFile';
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
