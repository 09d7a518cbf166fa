// THIRD-PARTY-NOTICES names every npm package the bundle took code from (nested and scoped ones
// too), each with its licence text, after Node's own licence.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { noticesText, packageDirs } from '../../../scripts/release/notices.ts';

test('package directories come from the bundle inputs, nested and scoped ones included', () => {
  assert.deepEqual(
    packageDirs([
      'src/main.ts',
      'node_modules/yargs/build/lib/yargs-factory.js',
      'node_modules/yargs/index.mjs',
      'node_modules/@kubernetes/client-node/dist/config.js',
      'node_modules/execa/node_modules/is-stream/index.js',
    ]),
    ['node_modules/@kubernetes/client-node', 'node_modules/execa/node_modules/is-stream', 'node_modules/yargs'],
  );
});

test("Node's licence first, then packages by name, each with its text or what package.json says", () => {
  const text = noticesText('22.23.2', 'Node.js is licensed for use as follows: ...', [
    { name: 'yargs', version: '18.0.0', license: 'MIT', text: 'MIT License\nCopyright yargs' },
    { name: '@kubernetes/client-node', version: '2.0.1', license: 'Apache-2.0', text: 'Apache License' },
    { name: 'no-file', version: '1.0.0', license: 'ISC', text: undefined },
  ]);
  const order = [
    'Node.js v22.23.2',
    '@kubernetes/client-node@2.0.1 (Apache-2.0)',
    'no-file@1.0.0',
    'yargs@18.0.0 (MIT)',
  ];
  const at = order.map((s) => text.indexOf(s));
  assert.ok(
    at.every((i) => i >= 0),
    `all present: ${JSON.stringify(at)}`,
  );
  assert.deepEqual(
    [...at].sort((a, b) => a - b),
    at,
  );
  assert.match(text, /Copyright yargs/);
  assert.match(text, /No licence file in the package; its package.json says: ISC\./);
});
