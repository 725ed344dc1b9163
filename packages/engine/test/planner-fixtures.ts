/**
 * Builders for planner tests: small trees and one-path scenarios described by each side's
 * change (SPEC §2), so a table cell reads as one line.
 */
import type { PlanInput } from '../src/api.js';
import { resolveConfig, type SyncConfig } from '../src/config.js';
import type { Entry, HashAlgorithm, LastKnownState, Plan, Tree } from '../src/model.js';

export const T0 = Date.UTC(2026, 10, 1, 12, 0, 0);
export const HASH: HashAlgorithm = 'xxh3-64';

export interface FileOptions {
  mtime?: number;
  /** Leave the hash out, as a backend without listing hashes reports it. */
  noHash?: boolean;
  id?: string;
  algorithm?: HashAlgorithm;
}

/** A file whose size and hash follow from `content`. */
export function file(path: string, content: string, options: FileOptions = {}): Entry {
  const entry: Entry = { path, size: content.length, mtime: options.mtime ?? T0, isDir: false };
  if (!options.noHash) {
    entry.hash = `hash(${content})`;
    entry.hashAlgorithm = options.algorithm ?? HASH;
  }
  if (options.id !== undefined) entry.id = options.id;
  return entry;
}

export function dir(path: string, mtime = T0): Entry {
  return { path, size: 0, mtime, isDir: true };
}

export function tree(...entries: Entry[]): Tree {
  return new Map(entries.map((entry) => [entry.path, { ...entry }]));
}

export function planInput(parts: {
  source?: Entry[];
  destination?: Entry[];
  lastKnown?: { source?: Entry[]; destination?: Entry[] } | null;
  config?: Partial<SyncConfig>;
}): PlanInput {
  const lastKnown: LastKnownState | null =
    parts.lastKnown === null || parts.lastKnown === undefined
      ? null
      : {
          source: tree(...(parts.lastKnown.source ?? [])),
          destination: tree(...(parts.lastKnown.destination ?? [])),
        };
  return {
    source: tree(...(parts.source ?? [])),
    destination: tree(...(parts.destination ?? [])),
    lastKnown,
    config: resolveConfig(parts.config),
  };
}

/** A side's state of one path relative to the last-known state. */
export type Kind = 'none' | 'created' | 'unchanged' | 'modified' | 'deleted';

/** Content each side holds in a scenario; `modified`/`created` differ per side unless told. */
export interface ScenarioContent {
  base?: string;
  source?: string;
  destination?: string;
  sourceMtime?: number;
  destinationMtime?: number;
}

/**
 * One path, `f.txt`, in a given state on each side. A last-known state always exists (with
 * another, unchanged file in it, so it is never a first sync) and records `f.txt` on the
 * sides whose kind is unchanged, modified or deleted.
 */
export function scenario(
  source: Kind,
  destination: Kind,
  config: Partial<SyncConfig> = {},
  content: ScenarioContent = {},
): PlanInput {
  const base = content.base ?? 'original';
  const sides = {
    source: {
      kind: source,
      now: content.source ?? 'edited at source',
      mtime: content.sourceMtime ?? T0 + 60_000,
    },
    destination: {
      kind: destination,
      now: content.destination ?? 'edited at destination!',
      mtime: content.destinationMtime ?? T0 + 120_000,
    },
  };
  const current = { source: [file('other.txt', 'same')], destination: [file('other.txt', 'same')] };
  const record = { source: [file('other.txt', 'same')], destination: [file('other.txt', 'same')] };
  for (const side of ['source', 'destination'] as const) {
    const { kind, now, mtime } = sides[side];
    if (kind === 'unchanged' || kind === 'modified' || kind === 'deleted')
      record[side].push(file('f.txt', base));
    if (kind === 'unchanged') current[side].push(file('f.txt', base));
    if (kind === 'modified' || kind === 'created') current[side].push(file('f.txt', now, { mtime }));
  }
  return planInput({ ...current, lastKnown: record, config });
}

/** `TYPE path[ → to]` for each action, in plan order. */
export function summary(plan: Plan): string[] {
  return plan.actions.map((action) => `${action.type} ${action.path}${action.to ? ` → ${action.to}` : ''}`);
}
