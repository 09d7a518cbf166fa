// scripts/release/sea.ts's asciiOnly: the single executable's bundle is held as a string at every
// start, and one non-ASCII character anywhere makes V8 keep all of it two bytes per character, so
// the asset is escaped to ASCII; the escaped program must mean exactly what the original meant.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runInNewContext } from 'node:vm';
import { asciiOnly } from '../../../scripts/release/sea.ts';

test('asciiOnly leaves pure ASCII and a program that means the same in strings, templates, regexps and comments', () => {
  const program = [
    '// Returns response’s type (RFC 9111 §5.2)',
    '/*! Jimmy Wärting */',
    "const s = 'naïve → ✓';",
    'const t = `ça ${s}`;',
    "const r = /[äö→]/u.test('→');",
    '({ s, t, r, len: s.length })',
  ].join('\n');
  const escaped = asciiOnly(program);
  assert.match(escaped, /^[\x00-\x7f]*$/);
  assert.equal(JSON.stringify(runInNewContext(escaped)), JSON.stringify(runInNewContext(program)));
  assert.equal(asciiOnly('plain ascii\n'), 'plain ascii\n');
});
