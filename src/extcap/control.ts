// Wireshark's extcap control protocol: the messages that go through the control pipes between an
// extcap and Wireshark's interface toolbar. Each is "T" (the sync-pipe indication), a 3-byte
// big-endian length (payload + 2), the control number, the command, and the payload (at most
// 65535 bytes). Pure.

export const ControlCommand = {
  initialized: 0,
  set: 1,
  add: 2,
  remove: 3,
  enable: 4,
  disable: 5,
  statusbar: 6,
  information: 7,
  warning: 8,
  error: 9,
} as const;

const MAX_PAYLOAD = 65535;
const HEADER = 6;

/** One control message; a longer payload is cut to what the protocol carries. */
export function encodeControl(control: number, command: number, payload: string | Buffer = Buffer.alloc(0)): Buffer {
  let body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  if (body.length > MAX_PAYLOAD) body = body.subarray(0, MAX_PAYLOAD);
  const msg = Buffer.alloc(HEADER + body.length);
  msg.write('T', 0, 'latin1');
  msg.writeUIntBE(body.length + 2, 1, 3);
  msg.writeUInt8(control, 4);
  msg.writeUInt8(command, 5);
  body.copy(msg, HEADER);
  return msg;
}

export interface ControlMessage {
  control: number;
  command: number;
  payload: Buffer;
}

/** Splits BYTES into whole messages and the bytes of an incomplete one; throws on a broken stream. */
export function decodeControl(bytes: Buffer): { messages: ControlMessage[]; rest: Buffer } {
  const messages: ControlMessage[] = [];
  let at = 0;
  while (bytes.length - at >= HEADER) {
    if (bytes[at] !== 0x54)
      throw new Error(`control pipe: expected "T" at byte ${at}, got 0x${bytes[at]!.toString(16)}`);
    const len = bytes.readUIntBE(at + 1, 3);
    if (len < 2) throw new Error(`control pipe: message length ${len} is shorter than its header`);
    if (bytes.length - at < 4 + len) break;
    messages.push({
      control: bytes[at + 4]!,
      command: bytes[at + 5]!,
      payload: Buffer.from(bytes.subarray(at + HEADER, at + 4 + len)),
    });
    at += 4 + len;
  }
  return { messages, rest: Buffer.from(bytes.subarray(at)) };
}
