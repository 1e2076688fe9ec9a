import { renderPrometheus, type MetricFamily } from '../app/metrics';

/** Counters of `fk serve`, bumped where things happen and rendered by `/metrics` and `/status`. */
export interface ServeStats {
  connectionsOpened: number;
  connectionsRefused: Record<string, number>;
  signIns: Record<'ok' | 'wrong' | 'limited' | 'unsupported' | 'unavailable' | 'consent', number>;
  linesReceived: number;
  linesStored: number;
  linesRejected: Record<string, number>;
  linesSent: number;
  replays: number;
  accountsCreated: number;
  accountsDeleted: number;
  closedBy: Record<string, number>;
}

export function createStats(): ServeStats {
  return {
    connectionsOpened: 0,
    connectionsRefused: {},
    signIns: { ok: 0, wrong: 0, limited: 0, unsupported: 0, unavailable: 0, consent: 0 },
    linesReceived: 0,
    linesStored: 0,
    linesRejected: {},
    linesSent: 0,
    replays: 0,
    accountsCreated: 0,
    accountsDeleted: 0,
    closedBy: {},
  };
}

export function bump(counts: Record<string, number>, key: string, by = 1): void {
  counts[key] = (counts[key] ?? 0) + by;
}

export interface ServeGauges {
  readonly connections: number;
  readonly authenticated: number;
  readonly accountsOpen: number;
  readonly authLimiterKeys: number;
  readonly backend: string;
}

const labelled = (counts: Record<string, number>, label: string): MetricFamily['samples'] =>
  Object.entries(counts).map(([k, v]) => ({ labels: { [label]: k }, value: v }));

/** Prometheus text, in the daemon's style (`fk_serve_*`). */
export function serveMetrics(s: ServeStats, g: ServeGauges): string {
  const families: MetricFamily[] = [
    {
      name: 'fk_serve_up',
      help: 'The server runs (1), labelled by backend kind.',
      type: 'gauge',
      samples: [{ labels: { backend: g.backend }, value: 1 }],
    },
    {
      name: 'fk_serve_connections',
      help: 'Open WebSocket connections.',
      type: 'gauge',
      samples: [{ value: g.connections }],
    },
    {
      name: 'fk_serve_connections_authenticated',
      help: 'Open connections signed in to an account.',
      type: 'gauge',
      samples: [{ value: g.authenticated }],
    },
    {
      name: 'fk_serve_accounts_open',
      help: 'Account histories held open.',
      type: 'gauge',
      samples: [{ value: g.accountsOpen }],
    },
    {
      name: 'fk_serve_connections_total',
      help: 'Connections accepted.',
      type: 'counter',
      samples: [{ value: s.connectionsOpened }],
    },
    {
      name: 'fk_serve_connections_refused_total',
      help: 'Connections refused, by reason.',
      type: 'counter',
      samples: labelled(s.connectionsRefused, 'reason'),
    },
    {
      name: 'fk_serve_connections_closed_total',
      help: 'Connections the server closed, by reason.',
      type: 'counter',
      samples: labelled(s.closedBy, 'reason'),
    },
    {
      name: 'fk_serve_sign_ins_total',
      help: 'Authenticate messages, by result.',
      type: 'counter',
      samples: labelled(s.signIns, 'result'),
    },
    {
      name: 'fk_serve_auth_limiter_keys',
      help: 'Addresses and accounts with recent failed sign-ins.',
      type: 'gauge',
      samples: [{ value: g.authLimiterKeys }],
    },
    {
      name: 'fk_serve_lines_received_total',
      help: 'Lines received from clients.',
      type: 'counter',
      samples: [{ value: s.linesReceived }],
    },
    {
      name: 'fk_serve_lines_stored_total',
      help: 'Record lines stored on the backend.',
      type: 'counter',
      samples: [{ value: s.linesStored }],
    },
    {
      name: 'fk_serve_lines_rejected_total',
      help: 'Lines answered with Error, by reason.',
      type: 'counter',
      samples: labelled(s.linesRejected, 'reason'),
    },
    {
      name: 'fk_serve_lines_sent_total',
      help: 'Stored lines sent to clients (replays and fan-out).',
      type: 'counter',
      samples: [{ value: s.linesSent }],
    },
    {
      name: 'fk_serve_replays_total',
      help: 'Replay requests answered.',
      type: 'counter',
      samples: [{ value: s.replays }],
    },
    {
      name: 'fk_serve_accounts_created_total',
      help: 'Histories seeded for new accounts.',
      type: 'counter',
      samples: [{ value: s.accountsCreated }],
    },
    {
      name: 'fk_serve_accounts_deleted_total',
      help: 'Histories deleted by DeleteAccount.',
      type: 'counter',
      samples: [{ value: s.accountsDeleted }],
    },
  ];
  return renderPrometheus(families);
}
