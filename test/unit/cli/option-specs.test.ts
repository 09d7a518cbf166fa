// Help and completion read the builders without yargs; this holds that reading equal to what yargs
// itself makes of the same builders, for the global flags and every command of the table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import yargs from 'yargs';
import { commands } from '../../../src/cli/commands.ts';
import { addGlobalOptions } from '../../../src/cli/global.ts';
import { declaredOptions } from '../../../src/cli/option-specs.ts';

/** What yargs knows of the options BUILD declares: key → sorted aliases, type, choices, default, hidden. */
function yargsView(build: (y: ReturnType<typeof yargs>) => unknown, positionals: ReadonlySet<string>) {
  const y = yargs([]).help(false).version(false);
  build(y);
  // getOptions() holds more than yargs' types declare (count, array, default): the parser's own tables.
  const o = y.getOptions() as ReturnType<typeof y.getOptions> & {
    count: string[];
    array: string[];
    default: Record<string, unknown>;
  };
  const aliasOf = new Set(Object.values(o.alias).flat());
  const view: Record<string, unknown> = {};
  for (const key of Object.keys(o.key)) {
    if (aliasOf.has(key) || positionals.has(key)) continue;
    const type = o.boolean.includes(key)
      ? 'boolean'
      : o.number.includes(key)
        ? 'number'
        : o.string.includes(key)
          ? 'string'
          : o.count.includes(key)
            ? 'count'
            : undefined;
    view[key] = {
      aliases: [...(o.alias[key] ?? [])].sort(),
      type,
      array: o.array.includes(key),
      choices: o.choices[key]?.map(String),
      default: o.default[key],
      hidden: o.hiddenOptions.includes(key),
    };
  }
  return view;
}

function recorderView(build: Parameters<typeof declaredOptions>[0]) {
  const view: Record<string, unknown> = {};
  for (const s of declaredOptions(build).options) {
    view[s.key] = {
      aliases: [...s.aliases].sort(),
      type: s.type,
      array: s.array,
      choices: s.choices,
      default: s.default,
      hidden: s.hidden,
    };
  }
  return view;
}

test('the global flags read without yargs are the ones yargs parses', () => {
  assert.deepEqual(
    recorderView((y) => addGlobalOptions(y)),
    yargsView((y) => addGlobalOptions(y), new Set()),
  );
});

for (const c of commands) {
  test(`${c.name}: the flags read without yargs are the ones yargs parses`, () => {
    const positionals = new Set(declaredOptions((y) => c.options(y)).positionals.map((p) => p.key));
    assert.deepEqual(
      recorderView((y) => c.options(y)),
      yargsView((y) => c.options(y as never), positionals),
    );
  });
}
