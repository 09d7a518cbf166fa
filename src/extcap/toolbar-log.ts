// Where our messages go while Wireshark captures: its interface toolbar's log window (the logger
// control, through the control pipe Wireshark passes as --extcap-control-out), and the progress
// lines also to its status bar. Not to stderr: Wireshark shows whatever an extcap wrote there as
// an error ("Error by extcap pipe: ...") when the capture ends, so stderr carries errors only.
// Without a toolbar (tshark) the messages have nowhere to go and are dropped.
import type { Socket } from 'node:net';
import { Writable } from 'node:stream';
import { LOGGER_CONTROL } from './answers.ts';
import { ControlCommand, encodeControl } from './control.ts';

/** HH:MM:SS of DATE, local time. */
function clock(date: Date): string {
  return [date.getHours(), date.getMinutes(), date.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/** The control messages for one line of our log. Pure. */
export function logMessages(line: string, now: Date): Buffer[] {
  const messages = [encodeControl(LOGGER_CONTROL, ControlCommand.add, `${clock(now)} ${line}\n`)];
  // Progress for the status bar; the detail of -v only in the log window.
  if (!line.startsWith('debug: ')) messages.push(encodeControl(LOGGER_CONTROL, ControlCommand.statusbar, line));
  return messages;
}

/** A log stream (see log.ts' configureLog) that becomes toolbar messages; never blocks the writer. */
export class ToolbarLog extends Writable {
  #socket: Socket | undefined;
  #pending: Buffer[] = [];
  #partial = '';

  constructor() {
    super({ decodeStrings: false });
    // Nothing to report a broken log to; the capture goes on.
    this.on('error', () => {});
  }

  /** Starts sending to SOCKET (Wireshark's control pipe), first what was logged before it opened. */
  attach(socket: Socket): void {
    socket.on('error', () => this.#detach());
    this.#socket = socket;
    for (const m of this.#pending.splice(0)) socket.write(m);
  }

  #detach(): void {
    this.#socket?.destroy();
    this.#socket = undefined;
    this.#pending = [];
  }

  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const text = this.#partial + chunk.toString();
    const lines = text.split('\n');
    this.#partial = lines.pop() ?? '';
    for (const line of lines.filter((l) => l.trim() !== '')) {
      for (const m of logMessages(line, new Date())) {
        if (this.#socket) this.#socket.write(m);
        // Before the pipe opens: kept, but only so much (it opens within a second or never).
        else if (this.#pending.length < 1000) this.#pending.push(m);
      }
    }
    cb();
  }

  /** Sends what is left and lets the pipe close. */
  close(): Promise<void> {
    const socket = this.#socket;
    this.#socket = undefined;
    if (!socket || socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        socket.destroy();
        resolve();
      }, 1000);
      socket.end(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
