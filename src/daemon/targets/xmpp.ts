import type { FkEvent } from '../../core/notify/notifications';
import { mmss } from '../../core/notify/timerView';
import type { Logger } from '../../core/logger';
import type { XmppTargetConfig } from '../options';
import type { Target } from './target';

/** The chat text of an event: one short human line. */
export function chatText(e: FkEvent): string {
  const what =
    e.pomodoro !== null && e.workitem !== null
      ? `${e.pomodoro} of '${e.workitem.name}'`
      : e.workitem !== null
        ? `'${e.workitem.name}'`
        : '';
  const late = e.late ? ' (while the daemon was down)' : '';
  switch (e.type) {
    case 'work.started':
      return `Work started: ${what}${e.workSeconds !== undefined ? `, ${mmss(e.workSeconds)}` : ''}${late}`;
    case 'work.finished':
      return `Work finished: ${what}${e.restSeconds ? `, rest ${mmss(e.restSeconds)}` : ''}${late}`;
    case 'longbreak.started':
      return `Long break started after ${what}${late}`;
    case 'rest.finished':
      return `Pomodoro complete: ${what}${late}`;
    case 'pomodoro.voided':
      return `Pomodoro voided: ${what}${late}`;
    case 'interruption.added':
      return `Interruption: ${what}${e.reason ? ` (${e.reason})` : ''}${late}`;
    case 'workitem.completed':
      return `Workitem ${e.state ?? 'finished'}: ${what}${late}`;
    default:
      return `${e.type} (${e.user})${e.detail?.reason ? `: ${String(e.detail.reason)}` : ''}`;
  }
}

/**
 * Sends each event as a chat message to a JID through `sendXmppChatMessage` (the XMPP transport's
 * helper: one connection per message, confirmed by a server ping after it). The body is a short
 * human line; the message carries no JSON, so use another target for machines.
 */
export function createXmppTarget(cfg: XmppTargetConfig, logger: Logger): Target {
  const log = logger.child({ component: 'xmpp-target', target: cfg.name });
  return {
    name: cfg.name,
    type: 'xmpp',
    events: cfg.events,
    retry: cfg.retry,
    dedupeKey: cfg.dedupeKey,
    async deliver(event: FkEvent): Promise<void> {
      // Loaded on first use: @xmpp/client is only needed when an XMPP target is configured.
      const { sendXmppChatMessage } = await import('../../transports/xmpp');
      await sendXmppChatMessage({
        service: cfg.service,
        domain: cfg.domain,
        username: cfg.username,
        password: cfg.password,
        to: cfg.to,
        body: chatText(event),
        timeoutMs: cfg.timeoutMs,
        logger: log,
      });
    },
    async close() {
      /* one connection per message: nothing stays open */
    },
  };
}
