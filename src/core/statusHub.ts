import type { Logger } from './logger';
import type { TransportStatus } from './transport';

/**
 * The status listeners of a transport (`Transport.onStatus`): every listener hears every status,
 * in order, and one that throws is logged and does not stop the others.
 */
export interface StatusHub {
  emit(status: TransportStatus): void;
  onStatus(listener: (status: TransportStatus) => void): () => void;
}

export function createStatusHub(log: Logger): StatusHub {
  const listeners = new Set<(s: TransportStatus) => void>();
  return {
    emit(status) {
      for (const listener of [...listeners]) {
        try {
          listener(status);
        } catch (err) {
          log.error({ err }, 'status listener failed');
        }
      }
    },
    onStatus(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
  };
}
