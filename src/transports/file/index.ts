export { createFileTransport, type FileTransportOptions, DEFAULT_POLL_MS, DEFAULT_LOCK_TIMEOUT_MS } from './fileTransport';
