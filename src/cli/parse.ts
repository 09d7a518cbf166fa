// Pure parsers for flag values, so a bad value becomes a usage error naming the flag.
import { usageError } from '../errors.ts';

const UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };

/** Parses `30s`, `5m`, `1h30m`, `1.5m`, `250ms` or a bare number of seconds into seconds. */
export function parseDuration(text: string, flag: string): number {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return positive(Number(trimmed), text, flag);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(trimmed); m; m = re.exec(trimmed)) {
    total += Number(m[1]) * UNITS[m[2]!]!;
    consumed = re.lastIndex;
  }
  if (consumed === 0 || consumed !== trimmed.length) {
    throw usageError(`invalid duration "${text}" for ${flag}`, 'use e.g. 30s, 5m, 1h30m');
  }
  return positive(total, text, flag);
}

function positive(n: number, text: string, flag: string): number {
  if (!(n > 0) || !Number.isFinite(n)) throw usageError(`${flag} must be greater than zero (got "${text}")`);
  return n;
}

/** Parses a kubectl-style timeout in milliseconds: a duration, or 0 for "no limit" (Infinity). */
export function parseTimeout(text: string, flag: string): number {
  return /^0+(\.0*)?[a-z]*$/.test(text.trim()) ? Infinity : parseDuration(text, flag) * 1000;
}

/** Parses a positive integer flag value (yargs gives numbers, but NaN for junk). */
export function parsePositiveInt(value: unknown, flag: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = typeof value === 'number' ? value : Number(String(value));
  if (!Number.isInteger(n) || n <= 0 || n > max) {
    throw usageError(`${flag} must be a whole number between 1 and ${max} (got "${String(value)}")`);
  }
  return n;
}
