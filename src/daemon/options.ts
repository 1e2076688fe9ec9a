import type { Config, EncryptionMode, LogLevel } from '../app/config';

/** What to do with transitions that happened while no daemon ran (the timer never fires in the past). */
export type LatePolicy = 'drop' | 'send';

/** Capped exponential backoff of one target's deliveries. */
export interface RetryPolicy {
  /** First retry delay. @default 500 */
  readonly minMs: number;
  /** Longest delay between attempts. @default 60000 */
  readonly maxMs: number;
  /** Give up on an event after this many failed attempts; 0 retries forever. @default 0 */
  readonly maxAttempts: number;
}

interface TargetCommon {
  /** Unique name (metrics label, outbox delivery marks). @default the type, then type-2, … */
  readonly name: string;
  /** Event types let through: exact names, `prefix.*` or `*`. @default ['*'] */
  readonly events: readonly string[];
  readonly retry: RetryPolicy;
  /**
   * What identifies the destination across daemons: daemons that share the dedupe directory
   * deliver each event id once per key. null = this daemon only.
   * @default derived from the destination (the webhook URL, the AMQP exchange, the JID); null for stdout and hooks
   */
  readonly dedupeKey: string | null;
}

export interface StdoutTargetConfig extends TargetCommon {
  readonly type: 'stdout';
}

export interface HookTargetConfig extends TargetCommon {
  readonly type: 'hook';
  /** Program and arguments, run without a shell; the event JSON goes to its stdin. */
  readonly argv: readonly string[];
  /** Killed (and retried) after this long. @default 10000 */
  readonly timeoutMs: number;
}

export interface WebhookTargetConfig extends TargetCommon {
  readonly type: 'webhook';
  readonly url: string;
  /** HMAC-SHA256 key of the `X-Fk-Signature` header; null sends no signature. */
  readonly secret: string | null;
  /** @default 5000 */
  readonly timeoutMs: number;
  readonly headers: Readonly<Record<string, string>>;
}

export interface AmqpTargetConfig extends TargetCommon {
  readonly type: 'amqp';
  /** `amqp://user:pass@host:5672/vhost` (password may come from `passwordEnv` instead). */
  readonly url: string;
  /** Topic exchange, declared durable. @default 'fk.events' */
  readonly exchange: string;
  /** @default 10000 */
  readonly timeoutMs: number;
}

export interface XmppTargetConfig extends TargetCommon {
  readonly type: 'xmpp';
  /** `xmpp://host:5222` (plain, STARTTLS when offered) or `xmpps://host:5223`. */
  readonly service: string;
  readonly domain: string;
  readonly username: string;
  readonly password: string;
  /** The JID that receives the chat messages. */
  readonly to: string;
  /** @default 10000 */
  readonly timeoutMs: number;
}

export type TargetConfig = StdoutTargetConfig | HookTargetConfig | WebhookTargetConfig | AmqpTargetConfig | XmppTargetConfig;
export type TargetType = TargetConfig['type'];

/** The resolved `daemon` section (flags > env > config file > defaults), frozen. */
export interface DaemonConfig {
  /** Names the state directory and appears in daemon events. @default 'default' */
  readonly name: string;
  /** Outbox, checkpoints and daemon id. @default $XDG_STATE_HOME/flowkeeper-headless/daemon/<name> */
  readonly stateDir: string;
  /** Shared by the daemons that must not double-notify. @default $XDG_STATE_HOME/flowkeeper-headless/daemon/seen */
  readonly dedupeDir: string;
  /** How long delivered ids are remembered. @default 7 days */
  readonly dedupeTtlMs: number;
  /** @default 'drop' */
  readonly late: LatePolicy;
  /** The local HTTP endpoint; null disables it. @default 127.0.0.1:8787 */
  readonly http: { readonly host: string; readonly port: number } | null;
  /** How long SIGTERM waits for the outbox to drain. @default 5000 */
  readonly shutdownTimeoutMs: number;
  /** @default 'info' */
  readonly logLevel: LogLevel;
  /** One session per user/backend. @default the global --user/--backend */
  readonly users: readonly Config[];
  /** @default one stdout target */
  readonly targets: readonly TargetConfig[];
}

/** `fk daemon` flags (global ones come from the program). */
export interface DaemonFlags {
  readonly name?: string | undefined;
  readonly stateDir?: string | undefined;
  readonly http?: string | undefined;
  readonly late?: string | undefined;
  readonly stdout?: boolean | undefined;
  readonly webhook?: string | undefined;
  readonly events?: string | undefined;
  readonly logLevel?: string | undefined;
  /** True when --user/--backend/--file was given: they override `daemon.users`. */
  readonly sessionFlags?: boolean | undefined;
}

export const DEFAULT_DAEMON_NAME = 'default';
export const DEFAULT_HTTP_HOST = '127.0.0.1';
export const DEFAULT_HTTP_PORT = 8787;
export const DEFAULT_DEDUPE_TTL_MS = 7 * 24 * 3600 * 1000;
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 5000;
export const DEFAULT_RETRY: RetryPolicy = Object.freeze({ minMs: 500, maxMs: 60_000, maxAttempts: 0 });
export const DEFAULT_HOOK_TIMEOUT_MS = 10_000;
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 5000;
export const DEFAULT_AMQP_EXCHANGE = 'fk.events';
export const DEFAULT_AMQP_TIMEOUT_MS = 10_000;
export const DEFAULT_XMPP_TIMEOUT_MS = 10_000;
export const ENCRYPTION_MODES: readonly EncryptionMode[] = ['auto', 'off', 'fernet', 'sodium'];
