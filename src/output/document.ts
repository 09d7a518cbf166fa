// Structured output for -o json and -o yaml: the same document either way, exact (no escaping:
// a program reads it), ending with a newline.
import { dump } from 'js-yaml';
import { renderJson } from './table.ts';

/** DOC as JSON (2-space indent) or YAML (block style, keys in document order). */
export function renderDocument(doc: unknown, format: 'json' | 'yaml'): string {
  if (format === 'json') return renderJson(doc);
  return dump(doc, { noRefs: true, lineWidth: -1, sortKeys: false });
}

/** `-o name`: one RESOURCE/NAME per line, as kubectl prints it. */
export function renderNames(names: readonly string[]): string {
  return names.map((n) => `${n}\n`).join('');
}
