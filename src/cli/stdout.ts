import { writeSync } from 'node:fs';

/*
 * fk's standard output. Creating `process.stdout` (a stream) loads Node's stream modules: about
 * 2.5 ms of a 60 ms `fk status`. So command output goes straight to file descriptor 1 until
 * something creates the stream (commander's help, a command that streams): from then on all of
 * it goes through the stream, after what was written directly, so the order is kept. A write
 * the descriptor does not take at once (a full non-blocking pipe) also goes on through the stream.
 * Either way a reader that stopped early (EPIPE: `fk category list | head -3`) ends the process
 * quietly, not with an error or a stack trace.
 */

let streamCreated = false;

function onStdoutError(err: NodeJS.ErrnoException): void {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
}

/**
 * Makes `process.stdout`, whenever some code first reads it, end the process quietly on EPIPE
 * and take over from the direct writes of {@link writeOut}. Called once, at start (`runCli`).
 */
export function watchStdout(): void {
  const desc = Object.getOwnPropertyDescriptor(process, 'stdout');
  const get = desc?.get;
  if (desc === undefined || get === undefined || desc.configurable !== true) {
    process.stdout.on('error', onStdoutError);
    streamCreated = true;
    return;
  }
  Object.defineProperty(process, 'stdout', {
    configurable: true,
    enumerable: desc.enumerable ?? true,
    get() {
      const stream = get.call(process) as NodeJS.WriteStream;
      if (!streamCreated) {
        streamCreated = true;
        stream.on('error', onStdoutError);
        Object.defineProperty(process, 'stdout', { ...desc, get });
      }
      return stream;
    },
  });
}

/** Writes `text` to standard output (see above). */
export function writeOut(text: string): void {
  if (streamCreated) {
    process.stdout.write(text);
    return;
  }
  const bytes = Buffer.from(text, 'utf8');
  let done = 0;
  try {
    while (done < bytes.length) done += writeSync(1, bytes, done, bytes.length - done);
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EPIPE') process.exit(process.exitCode ?? 0);
    // EAGAIN (a non-blocking pipe that is full) or anything else: the stream takes it from here
  }
  process.stdout.write(bytes.subarray(done));
}
