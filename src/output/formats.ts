// The -o formats of the commands that print tables, kept apart from the renderers so that
// building the parser (e.g. for --help) does not load the table library.
export type OutputFormat = 'table' | 'wide' | 'json';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'wide', 'json'];
