// What may reach a person's terminal: colour only where it helps (a terminal, NO_COLOR unset), and
// never a control character that came from a pod, a node or the API (an interface renamed to
// "\e]0;x\a\e[2J" must show as text, not retitle or clear the terminal).

/** Colour for STREAM: only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function useColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && !env.NO_COLOR;
}

// C0 controls (newline included: one message is one line), DEL, C1 controls, and the Unicode
// line/paragraph separators and bidirectional overrides that can disguise text.
const CONTROL = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** TEXT with every control character shown as an escape (\x1b, \u202e), for one line on a terminal. Pure. */
export function safeText(text: string): string {
  return text.replace(CONTROL, (ch) => {
    const code = ch.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
