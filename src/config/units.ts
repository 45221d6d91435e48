/**
 * Human-readable durations and sizes.
 *
 * Durations: a sequence of <number><unit> with units ms, s, m, h, d ("250ms", "30s", "1h30m", "2d"),
 * the bare string "0", or a number of milliseconds.
 * Sizes: <number>[unit] with binary (KiB, MiB, GiB, TiB) or decimal (B, KB, MB, GB, TB) units,
 * case-insensitive, or a number of bytes.
 *
 * Parsers return an integer (ms or bytes) or throw an Error whose message is fit for a user.
 */

const DURATION_UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const DURATION_HINT = '(expected e.g. 250ms, 30s, 5m, 1h30m, 2d)';

function invalidDuration(input: string | number, why = DURATION_HINT): Error {
  const shown = typeof input === 'string' ? JSON.stringify(input) : String(input);
  return new Error(`invalid duration ${shown} ${why}`);
}

/** Parses a duration into whole milliseconds. */
export function parseDuration(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) {
      throw invalidDuration(input, '(expected a non-negative number of milliseconds)');
    }
    return checkSafe(Math.round(input), input);
  }
  const text = input.trim();
  if (text.length === 0) throw invalidDuration(input);
  if (text === '0') return 0;
  if (/^\d+(\.\d+)?$/.test(text)) {
    throw invalidDuration(input, '(missing unit: use ms, s, m, h or d, e.g. 30s)');
  }
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;
  let total = 0;
  let index = 0;
  while (index < text.length) {
    part.lastIndex = index;
    const match = part.exec(text);
    if (match === null) throw invalidDuration(input);
    const amount = Number(match[1]);
    const unit = DURATION_UNITS[match[2] ?? ''];
    if (unit === undefined) throw invalidDuration(input);
    total += amount * unit;
    index = part.lastIndex;
  }
  return checkSafe(Math.round(total), input);
}

function checkSafe(value: number, input: string | number): number {
  if (!Number.isSafeInteger(value)) throw invalidDuration(input, '(too large)');
  return value;
}

const KIB = 1024;
const SIZE_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: KIB,
  mib: KIB ** 2,
  gib: KIB ** 3,
  tib: KIB ** 4,
};

const SIZE_HINT = '(expected bytes or a number with a unit, e.g. 300MiB, 50GiB, 1.5GB)';

function invalidSize(input: string | number, why = SIZE_HINT): Error {
  const shown = typeof input === 'string' ? JSON.stringify(input) : String(input);
  return new Error(`invalid size ${shown} ${why}`);
}

/** Parses a size into whole bytes. */
export function parseSize(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isSafeInteger(input) || input < 0) {
      throw invalidSize(input, '(expected a non-negative whole number of bytes)');
    }
    return input;
  }
  const match = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(input.trim());
  if (match === null) throw invalidSize(input);
  const amount = Number(match[1]);
  const unit = (match[2] ?? '').toLowerCase();
  const multiplier = SIZE_UNITS[unit];
  if (multiplier === undefined) throw invalidSize(input);
  if (multiplier === 1 && !Number.isInteger(amount)) {
    throw invalidSize(input, '(a byte count must be a whole number)');
  }
  const bytes = Math.round(amount * multiplier);
  if (!Number.isSafeInteger(bytes)) throw invalidSize(input, '(too large)');
  return bytes;
}

/** Formats milliseconds the way parseDuration reads them: 90000 → "1m30s", 0 → "0s". */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const unit of ['d', 'h', 'm', 's', 'ms'] as const) {
    const size = DURATION_UNITS[unit] ?? 1;
    const count = Math.floor(rest / size);
    if (count > 0) {
      out += `${count}${unit}`;
      rest -= count * size;
    }
  }
  return out;
}

const FORMAT_SIZE_UNITS: ReadonlyArray<readonly [string, number]> = [
  ['TiB', KIB ** 4],
  ['GiB', KIB ** 3],
  ['MiB', KIB ** 2],
  ['KiB', KIB],
  ['TB', 1e12],
  ['GB', 1e9],
  ['MB', 1e6],
  ['KB', 1e3],
];

/** Formats bytes exactly, using the largest unit that divides evenly: 53687091200 → "50GiB". */
export function formatSize(bytes: number): string {
  if (bytes === 0) return '0';
  for (const [unit, size] of FORMAT_SIZE_UNITS) {
    if (bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}
