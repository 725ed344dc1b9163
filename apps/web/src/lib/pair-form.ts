import type {
  ComparisonMode,
  ConflictStrategy,
  CreatePairInput,
  ErrorResponse,
  Pair,
  SyncMode,
} from '@syncengine/contracts';
import { CreatePairSchema, PAIR_DEFAULTS, WATCH_DEFAULTS } from '@syncengine/contracts';
import { patternLines } from './ignore-test.js';
import {
  emptyLocationValues,
  type LocationKind,
  type LocationValues,
  locationToValues,
  valuesToLocation,
} from './location-form.js';

/** Everything the pair form edits, as the inputs hold it. */
export interface PairFormValues {
  name: string;
  source: LocationValues;
  destination: LocationValues;
  mode: SyncMode;
  comparisonMode: ComparisonMode;
  conflictResolution: ConflictStrategy;
  ignorePatterns: string;
  transfers: number | string;
  operations: number | string;
  maxDeletePercent: number | string;
  /** KiB per second; empty for no limit. */
  bandwidthLimitKiB: number | string;
  schedule: string;
  enabled: boolean;
  watchEnabled: boolean;
  watchDebounceMs: number | string;
  watchRescanMinutes: number | string;
  watchPollSeconds: number | string;
}

/** Field path (`source.path`, `concurrency.transfers`) → message. */
export type FieldErrors = Record<string, string>;

export function emptyPairForm(kinds: LocationKind[]): PairFormValues {
  const local = kinds.find((kind) => kind.type === 'local') ?? kinds[0];
  const location = local ? emptyLocationValues(local) : { type: 'local', path: '' };
  return {
    name: '',
    source: { ...location },
    destination: { ...location },
    mode: PAIR_DEFAULTS.mode,
    comparisonMode: PAIR_DEFAULTS.comparisonMode,
    conflictResolution: PAIR_DEFAULTS.conflictResolution,
    ignorePatterns: '',
    transfers: PAIR_DEFAULTS.concurrency.transfers,
    operations: PAIR_DEFAULTS.concurrency.operations,
    maxDeletePercent: PAIR_DEFAULTS.maxDeletePercent,
    bandwidthLimitKiB: kibPerSecond(PAIR_DEFAULTS.bandwidthLimit),
    schedule: '',
    enabled: true,
    watchEnabled: WATCH_DEFAULTS.enabled,
    watchDebounceMs: WATCH_DEFAULTS.debounceMs,
    watchRescanMinutes: WATCH_DEFAULTS.rescanMinutes,
    watchPollSeconds: WATCH_DEFAULTS.pollSeconds,
  };
}

export function pairToForm(pair: Pair, kinds: LocationKind[]): PairFormValues {
  return {
    name: pair.name,
    source: locationToValues(pair.source as Record<string, unknown>, kinds),
    destination: locationToValues(pair.destination as Record<string, unknown>, kinds),
    mode: pair.mode,
    comparisonMode: pair.comparisonMode,
    conflictResolution: pair.conflictResolution,
    ignorePatterns: pair.ignorePatterns.join('\n'),
    transfers: pair.concurrency.transfers,
    operations: pair.concurrency.operations,
    maxDeletePercent: pair.maxDeletePercent,
    bandwidthLimitKiB: kibPerSecond(pair.bandwidthLimit),
    schedule: pair.schedule ?? '',
    enabled: pair.enabled,
    watchEnabled: pair.watch.enabled,
    watchDebounceMs: pair.watch.debounceMs,
    watchRescanMinutes: pair.watch.rescanMinutes,
    watchPollSeconds: pair.watch.pollSeconds,
  };
}

/** A bandwidth limit in bytes per second as the form shows it: KiB/s, empty for none. */
function kibPerSecond(bytesPerSecond: number | null): number | string {
  return bytesPerSecond === null ? '' : bytesPerSecond / 1024;
}

/** The form's KiB/s back to bytes per second; empty is no limit. */
function bytesPerSecond(kib: number | string): number | null {
  if (typeof kib === 'string' && kib.trim() === '') return null;
  return Math.round(toNumber(kib) * 1024);
}

function toNumber(value: number | string): number {
  if (typeof value === 'number') return value;
  return value.trim() === '' ? Number.NaN : Number(value);
}

/** The request body the form's values make (before validation). */
export function formToBody(values: PairFormValues, kinds: LocationKind[]): CreatePairInput {
  const schedule = values.schedule.trim();
  return {
    name: values.name,
    source: valuesToLocation(values.source, kinds) as CreatePairInput['source'],
    destination: valuesToLocation(values.destination, kinds) as CreatePairInput['destination'],
    mode: values.mode,
    comparisonMode: values.comparisonMode,
    conflictResolution: values.conflictResolution,
    ignorePatterns: patternLines(values.ignorePatterns),
    concurrency: { transfers: toNumber(values.transfers), operations: toNumber(values.operations) },
    maxDeletePercent: toNumber(values.maxDeletePercent),
    bandwidthLimit: bytesPerSecond(values.bandwidthLimitKiB),
    schedule: schedule === '' ? null : schedule,
    enabled: values.enabled,
    watch: {
      enabled: values.watchEnabled,
      debounceMs: toNumber(values.watchDebounceMs),
      rescanMinutes: toNumber(values.watchRescanMinutes),
      pollSeconds: toNumber(values.watchPollSeconds),
    },
  };
}

/** Where an issue is shown: indexed pattern lines fold onto the patterns editor. */
function fieldKey(path: readonly PropertyKey[]): string {
  const parts = path.map(String);
  if (parts[0] === 'ignorePatterns' && parts.length > 1) return 'ignorePatterns';
  return parts.join('.');
}

/** The subset of a zod issue that decides how it reads. */
export interface IssueLike {
  path: readonly PropertyKey[];
  message: string;
  code?: string;
  minimum?: unknown;
  origin?: unknown;
}

/** zod's generic wording, made plain; messages written in the schemas are kept as they are. */
function readableMessage(issue: IssueLike): string {
  const { path, message } = issue;
  let text = message;
  // zod's own wording starts like this; a schema's custom message is kept.
  const isGeneric = /^(Too small|Too big|Invalid input)/.test(message);
  if (!isGeneric) text = message;
  else if (/expected number, received NaN/i.test(message)) text = 'Enter a number';
  else if (issue.code === 'too_small' && issue.origin === 'string' && Number(issue.minimum) === 1)
    text = 'Required';
  else if (/received undefined/i.test(message)) text = 'Required';
  else if (issue.code === 'too_small' && issue.origin === 'number')
    text = `Must be at least ${String(issue.minimum)}`;
  else if (issue.code === 'too_big' && issue.origin === 'number') {
    text = `Must be at most ${String((issue as { maximum?: unknown }).maximum)}`;
  }
  if (path[0] === 'ignorePatterns' && typeof path[1] === 'number') return `Line ${path[1] + 1}: ${text}`;
  // The form asks for KiB/s, the API for bytes per second.
  if (path[0] === 'bandwidthLimit' && text !== 'Enter a number') {
    return 'Enter at least 1 KiB/s and at most 2 GiB/s, or leave it empty for no limit';
  }
  return text;
}

/** zod issues → one message per field (the first issue of each field wins). */
export function issuesToFieldErrors(issues: readonly IssueLike[]): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of issues) {
    const key = fieldKey(issue.path);
    if (!(key in errors)) errors[key] = readableMessage(issue);
  }
  return errors;
}

/**
 * Validates the form with the API's own schema. Returns the body to send, or the errors
 * to show beside each field.
 */
export function validatePairForm(
  values: PairFormValues,
  kinds: LocationKind[],
): { ok: true; body: CreatePairInput } | { ok: false; errors: FieldErrors } {
  const body = formToBody(values, kinds);
  const parsed = CreatePairSchema.safeParse(body);
  if (parsed.success) return { ok: true, body };
  return { ok: false, errors: issuesToFieldErrors(parsed.error.issues) };
}

/**
 * An API error → field errors. The server names fields in `issues[].path` (`source.path`,
 * or `/source/path`, possibly under `body`).
 */
export function serverErrorToFieldErrors(error: Pick<ErrorResponse, 'issues'>): FieldErrors {
  const issues = (error.issues ?? []).map((issue) => ({
    path: issue.path
      .replace(/^\/+/, '')
      .split(/[./]/)
      .filter((part) => part !== '' && part !== 'body')
      .map((part) => (/^\d+$/.test(part) ? Number(part) : part)),
    message: issue.message,
  }));
  return issuesToFieldErrors(issues);
}
