import type { Transport, TransportEntry } from './transport';

/**
 * Reads a log once: subscribes from `from` (null: the beginning), hands every entry to `onEntry`
 * until the reader is caught up or `onEntry` returns true ("enough"), then unsubscribes. Resolves
 * true when it stopped at the end of the log, false when `onEntry` stopped it first. Entries that
 * arrive after the stop are not handed on. The one shape of every one-shot read (the head of a
 * log for its encryption, a whole log for a tool, the first entry).
 *
 * @example
 * const lines: string[] = [];
 * await readLog(transport, null, (e) => void lines.push(e.line));
 */
export async function readLog(
  transport: Transport,
  from: string | null,
  onEntry: (entry: TransportEntry) => boolean | void,
): Promise<boolean> {
  let stopped = false;
  let finish!: (atEnd: boolean) => void;
  const done = new Promise<boolean>((resolve) => (finish = resolve));
  const stop = (atEnd: boolean): void => {
    if (stopped) return;
    stopped = true;
    finish(atEnd);
  };
  const unsubscribe = await transport.subscribe(from, {
    onEntry: (e) => {
      if (!stopped && onEntry(e) === true) stop(false);
    },
    onCaughtUp: () => stop(true),
  });
  try {
    return await done;
  } finally {
    await unsubscribe();
  }
}
