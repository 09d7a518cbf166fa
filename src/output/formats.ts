// The -o formats of the commands that print tables (kubectl's: table, wide, json, yaml, name), kept
// apart from the renderers so that building the parser (e.g. for --help) loads nothing heavy.
export type OutputFormat = 'table' | 'wide' | 'json' | 'yaml' | 'name';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'wide', 'json', 'yaml', 'name'];
