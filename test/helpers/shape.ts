// The JSON shapes docs/output.md documents for `ls`, `whohas` and `inspect` (-o json), read from
// that page itself, and a strict checker, so the documentation and the output cannot drift apart.
//
// Shape notation (also explained in docs/output.md): a string is a type, "string", "number",
// "boolean", "null", or else a literal value; alternatives are joined by "|". [SHAPE] is an array
// of SHAPE. An object lists every key; a key written "name?" holds that object or null. No other
// keys may appear.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const PAGE = new URL('../../docs/output.md', import.meta.url);

/** The shape under `<!-- json-shape: KIND -->` in docs/output.md (the json block that follows it). */
export function documentedShape(kind: string): unknown {
  const text = readFileSync(PAGE, 'utf8');
  const marker = `<!-- json-shape: ${kind} -->`;
  const at = text.indexOf(marker);
  assert.ok(at >= 0, `docs/output.md has no ${marker}`);
  const m = /```json\n([\s\S]*?)\n```/.exec(text.slice(at));
  assert.ok(m, `no json block after ${marker}`);
  return JSON.parse(m[1]!);
}

const TYPES = new Set(['string', 'number', 'boolean', 'null']);

function typeOk(value: unknown, alt: string): boolean {
  if (alt === 'null') return value === null;
  if (TYPES.has(alt)) return typeof value === alt;
  return value === alt;
}

/** Throws an AssertionError naming the first place VALUE does not fit SHAPE. */
export function checkShape(value: unknown, shape: unknown, path = '$'): void {
  if (typeof shape === 'string') {
    const alts = shape.split('|').map((s) => s.trim());
    assert.ok(
      alts.some((a) => typeOk(value, a)),
      `${path}: ${JSON.stringify(value)} is not ${shape}`,
    );
    return;
  }
  if (Array.isArray(shape)) {
    assert.ok(Array.isArray(value), `${path}: expected an array, got ${JSON.stringify(value)}`);
    value.forEach((v, i) => checkShape(v, shape[0], `${path}[${i}]`));
    return;
  }
  assert.ok(typeof shape === 'object' && shape !== null, `${path}: bad shape`);
  assert.ok(
    typeof value === 'object' && value !== null && !Array.isArray(value),
    `${path}: expected an object, got ${JSON.stringify(value)}`,
  );
  const keys = Object.keys(shape).map((k) => k.replace(/\?$/, ''));
  assert.deepEqual(Object.keys(value).sort(), [...keys].sort(), `${path}: keys differ from the documented shape`);
  for (const [k, sub] of Object.entries(shape)) {
    const name = k.replace(/\?$/, '');
    const v = (value as Record<string, unknown>)[name];
    if (k.endsWith('?') && v === null) continue;
    checkShape(v, sub, `${path}.${name}`);
  }
}
