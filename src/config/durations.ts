/**
 * Durations and their one naming rule: the file says `tagTtl: 5m`, the code reads
 * `tagTtlMs: 300000`. msObject applies the rule to an object's duration fields, and
 * fileDurations reverses it for rendering, so no option spells out its `Ms` name.
 */
import { z } from 'zod';
import { parsed, strictObject } from './fields.js';
import { formatDuration, parseDuration } from './units.js';

/** Largest delay Node's timers accept; longer timeouts would fire immediately. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Schema metadata that marks a duration field for msObject. */
const DURATION = { unit: 'ms' } as const;

/** A duration in ms, typed apart from other numbers so MsNamed can find it. */
type Millis = number & z.core.$brand<'ms'>;

export interface DurationBounds {
  /** Inclusive lower bound in ms (default 0). */
  readonly min?: number;
  /** Inclusive upper bound in ms (default: no bound beyond a safe integer). */
  readonly max?: number;
}

/** A duration ("30s", "1h30m", or ms as a number) parsed to milliseconds. */
export function duration(bounds: DurationBounds = {}) {
  const { min = 0, max = Number.MAX_SAFE_INTEGER } = bounds;
  return parsed('duration', parseDuration)
    .superRefine((ms, ctx) => {
      if (ms < min) ctx.addIssue({ code: 'custom', message: `must be at least ${min}ms` });
      if (ms > max) {
        const days = (max / 86_400_000).toFixed(1);
        ctx.addIssue({ code: 'custom', message: `must be at most ${max}ms (about ${days} days)` });
      }
    })
    .brand<'ms'>()
    .meta(DURATION);
}

function isDuration(schema: z.core.$ZodType): boolean {
  let inner = schema;
  while (inner instanceof z.ZodPrefault || inner instanceof z.ZodDefault || inner instanceof z.ZodOptional) inner = inner.unwrap();
  return z.globalRegistry.get(inner)?.['unit'] === DURATION.unit;
}

/** T with each duration key `foo` renamed `fooMs` and typed as a plain number. */
export type MsNamed<T> = {
  [K in keyof T as T[K] extends Millis ? `${K & string}Ms` : K]: T[K] extends Millis ? number : T[K];
};

/** A strict object (see strictObject) whose duration fields come out under their `Ms` names. */
export function msObject<T extends z.core.$ZodLooseShape>(shape: T) {
  const durations = new Set(Object.entries(shape).filter(([, schema]) => isDuration(schema)).map(([key]) => key));
  return strictObject(shape).transform(
    (raw) => Object.fromEntries(Object.entries(raw).map(([key, value]) => [durations.has(key) ? `${key}Ms` : key, value])) as MsNamed<typeof raw>,
  );
}

/** The code's `fooMs: 90000` back to the file's `foo: 1m30s`, at every depth. */
export function fileDurations(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fileDurations);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, child]) =>
      key.endsWith('Ms') && typeof child === 'number' ? [key.slice(0, -2), formatDuration(child)] : [key, fileDurations(child)],
    ),
  );
}
