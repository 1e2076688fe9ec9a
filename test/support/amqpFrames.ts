/**
 * A watcher for the fault proxy (`faultProxy.ts`): follows the AMQP 0-9-1 frames of one direction
 * of one connection (across chunk boundaries) and names the methods it sees, so a test can cut a
 * link at the exact moment a client closes a channel or the connection, publishes a record, or
 * the broker confirms one.
 *
 * Frame layout (AMQP 0-9-1 §4.2.3): type (1 byte), channel (2), size (4), payload, 0xCE. A method
 * frame (type 1) starts its payload with class id (2) and method id (2). The client first sends
 * the 8-byte protocol header `AMQP\0\0\9\1`.
 */
const METHODS: Record<string, string> = {
  '10/50': 'connection.close',
  '10/51': 'connection.close-ok',
  '20/40': 'channel.close',
  '20/41': 'channel.close-ok',
  '40/10': 'exchange.declare',
  '50/10': 'queue.declare',
  '60/20': 'basic.consume',
  '60/40': 'basic.publish',
  // down: a publisher confirm (the broker stored the message); up: a consumer's acknowledgement
  '60/80': 'basic.ack',
};

/**
 * Each method is reported twice: by name (`channel.close`) and numbered within the connection
 * and direction (`channel.close#3`: the third one), so a test can cut at the n-th.
 */
export function amqpFrameWatcher(direction: 'up' | 'down'): (chunk: Buffer) => readonly string[] {
  let buf = Buffer.alloc(0);
  const seen = new Map<string, number>();
  let headerLeft = direction === 'up' ? 8 : 0;
  return (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    if (headerLeft > 0) {
      const skip = Math.min(headerLeft, buf.length);
      buf = buf.subarray(skip);
      headerLeft -= skip;
    }
    const events: string[] = [];
    while (buf.length >= 7) {
      const size = buf.readUInt32BE(3);
      if (buf.length < 7 + size + 1) break;
      if (buf[0] === 1 && size >= 4) {
        const name = METHODS[`${buf.readUInt16BE(7)}/${buf.readUInt16BE(9)}`];
        if (name !== undefined) {
          const n = (seen.get(name) ?? 0) + 1;
          seen.set(name, n);
          events.push(name, `${name}#${n}`);
        }
      }
      buf = buf.subarray(7 + size + 1);
    }
    return events;
  };
}
