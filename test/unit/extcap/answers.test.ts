// Our answers to Wireshark's listing calls, read back with Wireshark's own tokenizer rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ARG,
  configAnswer,
  dialogArgs,
  dltsAnswer,
  interfacesAnswer,
  reloadAnswer,
} from '../../../src/extcap/answers.ts';
import type { WiresharkInterface } from '../../../src/extcap/interfaces.ts';
import { OPTION_KINDS } from '../../../src/extcap/options.ts';

/** Each line as Wireshark's tokenizer (extcap_parser.c) reads it: keyword and parameters. */
function parse(text: string): Array<{ keyword: string; params: Record<string, string> }> {
  assert.ok(text.endsWith('\n'), 'every sentence ends with a newline');
  return text
    .trimEnd()
    .split('\n')
    .map((line) => {
      const keyword = /^(arg|value|interface|extcap|dlt|control)(?=[\t ]+\{)/i.exec(line)?.[1];
      assert.ok(keyword, `not a sentence: ${line}`);
      const params: Record<string, string> = {};
      for (const m of line.matchAll(/\{([a-zA-Z_-]*?)=(.*?)\}(?=\{|$|\s)/g)) params[m[1]!] = m[2]!;
      return { keyword, params };
    });
}

const iface: WiresharkInterface = {
  name: 'kubectl_netns_prod',
  display: 'Kubernetes pods: prod',
  context: 'prod',
  namespace: 'shop',
};

test('interfaces: the tool with our version, each interface, and the toolbar log window', () => {
  const s = parse(interfacesAnswer([iface, { ...iface, name: 'kubectl_netns_dev', display: 'dev' }]));
  assert.equal(s[0]!.keyword, 'extcap');
  assert.match(s[0]!.params.version!, /^\d+\.\d+\.\d+/);
  assert.deepEqual(
    s.filter((x) => x.keyword === 'interface').map((x) => x.params.value),
    ['kubectl_netns_prod', 'kubectl_netns_dev'],
  );
  const control = s.find((x) => x.keyword === 'control')!;
  assert.deepEqual([control.params.type, control.params.role, control.params.number], ['button', 'logger', '0']);
});

test('one link type: Ethernet (DLT 1)', () => {
  assert.deepEqual(parse(dltsAnswer())[0]!.params, { number: '1', name: 'EN10MB', display: 'Ethernet' });
});

test('the dialog: every option we parse, numbered once; namespace and pod reload; the pod is required', () => {
  const args = parse(
    configAnswer(iface, {}, { image: 'r.example/img:1@sha256:abc', debugNamespace: undefined }),
  ).filter((x) => x.keyword === 'arg');
  const calls = args.map((a) => a.params.call!.replace(/^--/, ''));
  assert.deepEqual([...calls].sort(), Object.keys(OPTION_KINDS).sort());
  assert.equal(new Set(args.map((a) => a.params.number)).size, args.length);
  for (const a of args) {
    const flag = OPTION_KINDS[a.params.call!.slice(2) as keyof typeof OPTION_KINDS] === 'flag';
    assert.equal(a.params.type === 'boolflag', flag, a.params.call);
  }
  const byCall = (c: string) => args.find((a) => a.params.call === c)!.params;
  assert.deepEqual([byCall('--pod').reload, byCall('--pod').required], ['true', 'true']);
  assert.equal(byCall('--namespace').reload, 'true');
  assert.equal(byCall('--image').placeholder, 'r.example/img:1');
  assert.equal(byCall('--interface').default, 'auto');
  assert.ok(new RegExp(byCall('--interface').validation!).test('eth0'));
  assert.ok(!new RegExp(byCall('--interface').validation!).test('eth0; rm -rf'));
  assert.ok(new RegExp(byCall('--selector').validation!).test('app=web,tier in (a,b),!canary'));
});

test('without a reload the lists are the remembered ones, the context namespace first and preselected', () => {
  const values = parse(
    configAnswer(
      iface,
      {
        namespaces: ['default', 'shop', 'web'],
        pods: { namespace: 'shop', choices: [{ value: 'deploy/web', display: 'deploy/web (all 2)' }] },
      },
      { image: undefined, debugNamespace: 'dbg' },
    ),
  ).filter((x) => x.keyword === 'value');
  assert.deepEqual(
    values.map((v) => [v.params.arg, v.params.value, v.params.default]),
    [
      [String(ARG.namespace), 'shop', 'true'],
      [String(ARG.namespace), 'default', undefined],
      [String(ARG.namespace), 'web', undefined],
      [String(ARG.pod), 'deploy/web', undefined],
    ],
  );
  assert.ok(dialogArgs({ image: undefined, debugNamespace: 'dbg' }).some((a) => a.placeholder === 'dbg'));
});

test('a reload answers only values of that option, the current choice preselected', () => {
  const s = parse(
    reloadAnswer(
      ARG.pod,
      [
        { value: 'web-1', display: 'web-1 (node a)' },
        { value: 'web-2', display: 'web-2 (node b)' },
      ],
      'web-2',
    ),
  );
  assert.ok(s.every((x) => x.keyword === 'value' && x.params.arg === String(ARG.pod)));
  assert.deepEqual(
    s.map((x) => x.params.default),
    [undefined, 'true'],
  );
  assert.equal(reloadAnswer(ARG.pod, []), '');
});
