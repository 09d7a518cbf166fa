// The extcap sentences we print, against the examples of Wireshark's developer's guide
// (doc/wsdg_src/wsdg_capture.adoc) and against the way Wireshark's parser splits them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { argSentence, paramText, sentence, sentences, valueSentence } from '../../../src/extcap/sentences.ts';

/** Wireshark's own tokenizer (extcap_parser.c): the parameters it would read from LINE. */
function wiresharkParams(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of line.matchAll(/\{([a-zA-Z_-]*?)=(.*?)\}(?=\{|$|\s)/g)) out[m[1]!.toLowerCase()] = m[2]!;
  return out;
}

test("the guide's arg and value examples, byte for byte", () => {
  assert.equal(
    argSentence({
      number: 0,
      call: '--delay',
      display: 'Time delay',
      tooltip: 'Time delay between packages',
      type: 'integer',
      range: [1, 15],
      required: true,
    }),
    'arg {number=0}{call=--delay}{display=Time delay}{tooltip=Time delay between packages}{type=integer}{range=1,15}{required=true}',
  );
  assert.equal(
    valueSentence({ arg: 3, value: 'if1', display: 'Remote1', default: true }),
    'value {arg=3}{value=if1}{display=Remote1}{default=true}',
  );
  assert.equal(
    sentence('interface', [
      ['value', 'example1'],
      ['display', 'Example interface 1 for extcap'],
    ]),
    'interface {value=example1}{display=Example interface 1 for extcap}',
  );
});

test('a reloadable selector says so, and a regular expression keeps its braces', () => {
  const line = argSentence({
    number: 4,
    call: '--interface',
    display: 'Interface',
    type: 'string',
    validation: '^[a-z][a-z0-9]{0,14}$',
    group: 'Capture',
  });
  assert.equal(wiresharkParams(line).validation, '^[a-z][a-z0-9]{0,14}$');
  assert.equal(wiresharkParams(line).group, 'Capture');
  const selector = wiresharkParams(
    argSentence({ number: 1, call: '--pod', display: 'Pod', type: 'selector', reload: true, placeholder: 'Load pods' }),
  );
  assert.deepEqual([selector.reload, selector.placeholder, selector.type], ['true', 'Load pods', 'selector']);
});

test('text from elsewhere cannot end a value early or start a new sentence', () => {
  const hostile = 'ctx}{display=owned} x\ninterface {value=evil}';
  const line = sentence('interface', [
    ['value', 'kubectl_netns_x'],
    ['display', hostile],
  ]);
  assert.equal(line.split('\n').length, 1);
  assert.deepEqual(wiresharkParams(line), { value: 'kubectl_netns_x', display: paramText(hostile) });
  assert.equal(paramText('a\tb\u0007c'), 'a b c');
});

test('every sentence ends with a newline, absent parameters are left out', () => {
  assert.equal(sentences(['a', 'b']), 'a\nb\n');
  assert.equal(
    sentence('dlt', [
      ['number', 1],
      ['name', undefined],
    ]),
    'dlt {number=1}',
  );
});
