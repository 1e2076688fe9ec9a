import { execFileSync } from 'node:child_process';

/**
 * `rabbitmqctl` for integration tests that need to act on the broker itself (kill connections,
 * restart the app, create users). Only usable when the broker runs on this machine.
 */
export function rabbitmqctl(...args: string[]): string {
  return execFileSync('rabbitmqctl', ['-q', ...args], { encoding: 'utf8', timeout: 60_000, stdio: 'pipe' });
}

/** True when `rabbitmqctl` exists and reaches the broker. */
export function rabbitmqctlAvailable(): boolean {
  try {
    rabbitmqctl('ping');
    return true;
  } catch {
    return false;
  }
}

/**
 * Closes (server side, CONNECTION_FORCED) every connection whose `connection_name` client property
 * is exactly `name`. Returns how many were closed.
 */
export function closeConnectionsNamed(name: string, reason = 'closed by test'): number {
  const rows = rabbitmqctl('list_connections', 'pid', 'client_properties', '--no-table-headers')
    .split('\n')
    .filter((row) => row.includes(`{"connection_name","${name}"}`));
  for (const row of rows) {
    const pid = row.split('\t')[0];
    if (pid !== undefined) rabbitmqctl('close_connection', pid, reason);
  }
  return rows.length;
}
