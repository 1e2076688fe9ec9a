/** Explicit re-exports of the core API (STYLE §10: no `export *`). */
export { createClient, type Client, type ClientOptions, type ReplicaCache, type Sequencing } from './client';
export { systemClock, fixedClock, manualClock, type Clock, type Micros } from './clock';
export {
  createFernetCipher,
  createSodiumCipher,
  deriveFernetKey,
  deriveSodiumKey,
  encryptedFormatOf,
  formatSodiumHeader,
  parseSodiumHeader,
  type Cipher,
  type CipherFormat,
  type RecordBinding,
} from './crypto';
export { FkError, InputError, ParseError, DomainError, CryptoError, TransportError, type FkErrorCode } from './errors';
export { silentLogger, type Logger } from './logger';
export type { Tenant, User, Backlog, Workitem, Pomodoro, Interruption, Category, Tag, Timer } from './engine/model';
export { STRATEGY_NAMES, type StrategyName, type StrategyRecord } from './engine/records';
export { replay, type ReplayOptions, type ReplayMode, type ReplayState, type SkippedLine } from './engine/replay';
export { parseLine, formatRecord, splitLines } from './engine/serializer';
export { canonicalState, canonicalJson, canonicalError } from './engine/canonical';
export { timerAt, nextDeadline, type TimerView } from './notify/timerView';
export { parseInstant, formatInstant } from './engine/time';
export type {
  Transport,
  TransportEntry,
  TransportStatus,
  PublishMeta,
  SubscribeHandlers,
  Unsubscribe,
} from './transport';
