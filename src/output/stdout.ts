// stdout carries data. A reader that goes away (EPIPE: `| head -1` exited) ends a command quietly;
// any other write failure (a full disk behind `> file`) is an error the run must report. Without a
// listener, either would crash the process with a stack trace before its cleanup ran.

let gone = false;
let failure: NodeJS.ErrnoException | undefined;
const goneListeners = new Set<() => void>();

/** Starts watching STDOUT's errors; call once, before anything is written. */
export function watchStdout(out: NodeJS.WriteStream = process.stdout): void {
  out.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') {
      if (gone) return;
      gone = true;
      for (const fn of goneListeners) fn();
    } else {
      failure ??= err;
    }
  });
}

/** Calls FN once stdout's reader has gone away (at once if it already has); returns the unsubscribe. */
export function onStdoutGone(fn: () => void): () => void {
  if (gone) {
    fn();
    return () => {};
  }
  goneListeners.add(fn);
  return () => goneListeners.delete(fn);
}

/** The first stdout write error that was not a reader going away, if any. */
export function stdoutFailure(): NodeJS.ErrnoException | undefined {
  return failure;
}
