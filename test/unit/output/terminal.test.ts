// Text from pods, nodes and the API reaches the terminal as text: control characters are escaped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { safeText, useColor } from '../../../src/output/terminal.ts';
import { formatError, UserError } from '../../../src/errors.ts';
import { renderTable } from '../../../src/output/table.ts';

const HOSTILE = '\x1b]0;x\x07\x1b[2J';

test('an interface renamed to an escape sequence shows as text', () => {
  assert.equal(safeText(`eth0${HOSTILE}`), 'eth0\\x1b]0;x\\x07\\x1b[2J');
  assert.equal(safeText('a\nb\rc\x9bd\u202ee'), 'a\\x0ab\\x0dc\\x9bd\\u202ee');
  assert.equal(safeText('plain text, ünïcödé, 10.0.0.1/24'), 'plain text, ünïcödé, 10.0.0.1/24');
});

test('errors, hints and table cells are escaped; nothing raw reaches the terminal', () => {
  const text = formatError(new UserError(`no interface '${HOSTILE}'`, { hint: `try ${HOSTILE}` }), false);
  assert.doesNotMatch(text, /[\x00-\x09\x0b-\x1f]/, 'only the line breaks we put there');
  assert.match(text, /\\x1b\]0;x\\x07/);
  const table = renderTable([{ key: 'name', header: 'NAME' }], [{ name: HOSTILE }], { color: false });
  assert.doesNotMatch(table, /\x1b/);
});

test('colour only on a terminal, and never with NO_COLOR', () => {
  assert.equal(useColor({ isTTY: true }, {}), true);
  assert.equal(useColor({ isTTY: true }, { NO_COLOR: '1' }), false);
  assert.equal(useColor({ isTTY: false }, {}), false);
});
