import type {
  Entry,
  LastKnownState,
  PartialState,
  Side,
  StateChange,
  StatePart,
  StateStore,
  SyncMetadata,
  Tree,
} from '@syncengine/engine';
import { SyncError } from '@syncengine/engine';
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Database } from './database.js';
import { PairLockLostError } from './pair-lock.js';
import { pairMetadata, pairState } from './schema/index.js';

/** Rows per multi-row statement: large enough to be fast, small enough for one message. */
export const STATE_BATCH_SIZE = 5_000;
/** Rows read per page by `load()`, so a million-entry state is never one giant result. */
const LOAD_PAGE_SIZE = 50_000;

interface StateRow {
  side: Side;
  path: string;
  size: number;
  mtime: number;
  is_dir: boolean;
  hash: string | null;
  hash_algorithm: string | null;
  file_id: string | null;
  ctime: number | null;
}

const toRow = (side: Side, entry: Entry): StateRow => ({
  side,
  path: entry.path,
  size: entry.size,
  mtime: entry.mtime,
  is_dir: entry.isDir,
  hash: entry.hash ?? null,
  hash_algorithm: entry.hashAlgorithm ?? null,
  file_id: entry.id ?? null,
  ctime: entry.ctime ?? null,
});

/** What a `pair_state` row holds about an entry (a private copy, never shared with the engine). */
interface Snapshot {
  size: number;
  mtime: number;
  isDir: boolean;
  hash: string | undefined;
  hashAlgorithm: string | undefined;
  id: string | undefined;
  ctime: number | undefined;
}
const snapshot = (entry: Entry): Snapshot => ({
  size: entry.size,
  mtime: entry.mtime,
  isDir: entry.isDir,
  hash: entry.hash,
  hashAlgorithm: entry.hashAlgorithm,
  id: entry.id,
  ctime: entry.ctime,
});
const isSame = (stored: Snapshot | undefined, entry: Entry): boolean =>
  stored !== undefined &&
  stored.size === entry.size &&
  stored.mtime === entry.mtime &&
  stored.isDir === entry.isDir &&
  stored.hash === entry.hash &&
  stored.hashAlgorithm === entry.hashAlgorithm &&
  stored.id === entry.id &&
  stored.ctime === entry.ctime;

type Snapshots = Record<Side, Map<string, Snapshot>>;

/** A `pair_state` row without the pair and side it belongs to. */
type StoredRow = Omit<typeof pairState.$inferSelect, 'pairId' | 'side' | 'parent'>;

/** A `pair_state` row as the engine's entry; throws STATE_CORRUPT for a row that cannot be one. */
function toEntry(row: StoredRow): Entry {
  if (typeof row.path !== 'string' || !Number.isFinite(row.size) || !Number.isFinite(row.mtime)) {
    throw new SyncError('STATE_CORRUPT', `pair_state row for "${row.path}" is unreadable`);
  }
  const entry: Entry = { path: row.path, size: row.size, mtime: row.mtime, isDir: row.isDir };
  if (row.hash !== null) entry.hash = row.hash;
  if (row.hashAlgorithm !== null) entry.hashAlgorithm = row.hashAlgorithm;
  if (row.fileId !== null) entry.id = row.fileId;
  if (row.ctime !== null) entry.ctime = row.ctime;
  return entry;
}

/**
 * The engine's `StateStore` on Postgres (or PGlite): the last-known state of one pair in
 * `pair_state`, its metadata in `pair_metadata`. Writes go in batches of
 * {@link STATE_BATCH_SIZE} rows, each batch one statement whose rows travel as a single
 * JSON parameter (so the parameter limit never applies); `update()` upserts.
 *
 * After `load()`, the store remembers what the database holds (a copy of each row), so
 * `save()` at the end of a run writes only the rows that differ instead of the whole state:
 * a run that changed ten files of a million writes ten rows. One store instance serves one
 * run; the pair's single active run is the only writer.
 *
 * `loadPart()` reads a few folders' rows by index (`parent`, and key ranges of `path`)
 * instead of the whole state. What `update()` records is the saved state itself (rows
 * upserted and deleted as the run goes), so there is nothing to fold later: `keepsUpdates()`
 * is always true and `compact()` does nothing.
 *
 * With a `lockEpoch` (the fencing token of the run's pair lock), every write first checks,
 * in the statement that marks the pair as having a state, that the pair's epoch is still
 * this one, and holds that row until it commits: a run that lost its lock to a newer run
 * gets a PairLockLostError and writes nothing, and the newer run's lock waits until a
 * write already under way has committed.
 */
export class PostgresStateStore implements StateStore {
  #persisted: Snapshots | null = null;
  /**
   * Whether a state is stored, as the last `loadMetadata()` read it with the metadata (a
   * run reads the metadata, then the state): the next `load()` takes it instead of
   * reading it again, once.
   */
  #hasStateRead: boolean | undefined;
  /**
   * Whether this store, holding the pair's lock (a lock epoch), found no metadata and has
   * written none since: as the pair's one writer, it knows there is still none (a first
   * run reads it at its start and again at its end). Were the lock lost meanwhile, the
   * metadata written from this is fenced out.
   */
  #isMetadataAbsent = false;
  readonly #lockEpoch: number | undefined;

  constructor(
    private readonly db: Database,
    readonly pairId: string,
    options: { lockEpoch?: number | undefined } = {},
  ) {
    this.#lockEpoch = options.lockEpoch;
  }

  async load(): Promise<LastKnownState | null> {
    let hasState = this.#hasStateRead;
    this.#hasStateRead = undefined;
    if (hasState === undefined) {
      const [meta] = await this.db
        .select({ hasState: pairMetadata.hasState })
        .from(pairMetadata)
        .where(eq(pairMetadata.pairId, this.pairId));
      hasState = meta?.hasState ?? false;
    }
    if (!hasState) {
      this.#persisted = { source: new Map(), destination: new Map() };
      return null;
    }
    const persisted: Snapshots = { source: new Map(), destination: new Map() };
    const state = {
      source: await this.#loadSide('source', persisted.source),
      destination: await this.#loadSide('destination', persisted.destination),
    };
    this.#persisted = persisted;
    return state;
  }

  /**
   * The records within `part` and the size of the whole saved state (`pair_state_counts`,
   * kept by triggers), in one statement (per {@link LOAD_PAGE_SIZE} records): a folder's
   * direct items through the `parent` index,
   * a subtree as the key range from `root/` up to `root0` (bytewise: `path` is `COLLATE "C"`,
   * where `/` and `0` are neighbours), single paths by key.
   *
   * The store then knows only part of what is stored: a later `save()` replaces the whole
   * state (as without a `load()`), never taking the part for the whole.
   */
  async loadPart(part: StatePart): Promise<PartialState | null> {
    const hasStateRead = this.#hasStateRead;
    this.#hasStateRead = undefined;
    this.#persisted = null;
    if (hasStateRead === false) return null;
    const everything = part.subtrees.includes('');
    const exact = unique([...part.paths, ...part.folders, ...part.subtrees]);
    const roots = unique(part.subtrees);
    // One scan of both sides whose condition ORs the part's lookups, every value a constant
    // the planner sees (one index scan each, no join to misjudge): single paths and the
    // folders' and subtrees' own rows by key, folders' items by `parent`, subtrees as key ranges.
    const within = everything
      ? sql`true`
      : sql.join(
          [
            sql`s.path = any(${sql.param(exact)}::text[])`,
            ...(part.folders.length > 0
              ? [sql`s.parent = any(${sql.param(unique(part.folders))}::text[])`]
              : []),
            ...roots.map((root) => sql`(s.path >= ${`${root}/`} and s.path < ${`${root}0`})`),
          ],
          sql` or `,
        );
    const state: LastKnownState = { source: new Map(), destination: new Map() };
    let counts: PartialState['counts'] | undefined;
    let after: { side: Side; path: string } | null = null;
    for (;;) {
      const picked = sql`
        select * from pair_state s
        where s.pair_id = ${this.pairId} and s.side = any(${sql.param(SIDES)}::text[]) and (${within})
          ${after === null ? sql`` : sql`and (s.side, s.path) > (${after.side}, ${after.path})`}`;
      const result = await this.db.execute(sql`
        select m.has_state,
          case when m.has_state then (
            select coalesce(json_agg(json_build_array(
              p.side, p.path, p.size, p.mtime, p.is_dir, p.hash, p.hash_algorithm, p.file_id, p.ctime)
              order by p.side, p.path), '[]')
            from (${picked} order by side, path limit ${LOAD_PAGE_SIZE}) p
          ) end as rows,
          ${
            counts === undefined
              ? sql`case when m.has_state then (
                  select coalesce(json_object_agg(c.side, json_build_array(c.entries, c.files)), '{}')
                  from pair_state_counts c where c.pair_id = ${this.pairId}
                ) end`
              : sql`null`
          } as counts
        from (select coalesce(
          (select has_state from pair_metadata where pair_id = ${this.pairId}), false) as has_state) m`);
      const [first] = (
        result as unknown as { rows: Array<{ has_state: boolean; rows: unknown; counts: unknown }> }
      ).rows;
      if (!first?.has_state) return null;
      counts ??= partCounts(first.counts);
      const rows = sideRows(first.rows);
      for (const { side, row } of rows) {
        const entry = toEntry(row);
        state[side].set(entry.path, entry);
      }
      if (rows.length < LOAD_PAGE_SIZE) return { state, counts };
      const last = rows[rows.length - 1]!;
      after = { side: last.side, path: last.row.path };
    }
  }

  /**
   * Up to `perSize` file records of one side per size in `sizes` (any of them), through the
   * index of files by size.
   */
  async recordsOfSize(side: Side, sizes: readonly number[], perSize: number): Promise<Entry[]> {
    const wanted = unique(sizes.filter((size) => Number.isSafeInteger(size) && size >= 0));
    if (wanted.length === 0 || perSize < 1) return [];
    const result = await this.db.execute(sql`
      select coalesce(json_agg(json_build_array(
        p.path, p.size, p.mtime, p.is_dir, p.hash, p.hash_algorithm, p.file_id, p.ctime)), '[]') as rows
      from jsonb_array_elements_text(${JSON.stringify(wanted)}::jsonb) z(size)
      cross join lateral (
        select * from pair_state s
        where s.pair_id = ${this.pairId} and s.side = ${side} and not s.is_dir and s.size = z.size::bigint
        limit ${Math.floor(perSize)}
      ) p`);
    return pageRows(result).map(toEntry);
  }

  /** Every change `update()` records is written to the rows at once: nothing to fold into them. */
  async keepsUpdates(): Promise<boolean> {
    return true;
  }

  /** Nothing to fold: `update()` writes the saved state itself. */
  async compact(): Promise<void> {}

  async #loadSide(side: Side, persisted: Map<string, Snapshot>): Promise<Tree> {
    const tree: Tree = new Map();
    let after: string | null = null;
    for (;;) {
      // One JSON value per page: the driver parses it at once, instead of row by row and
      // field by field, which costs far more than the query (PGlite most of all).
      const result = await this.db.execute(sql`
        select coalesce(json_agg(json_build_array(
          p.path, p.size, p.mtime, p.is_dir, p.hash, p.hash_algorithm, p.file_id, p.ctime) order by p.path), '[]') as rows
        from (
          select * from pair_state
          where pair_id = ${this.pairId} and side = ${side}
            ${after === null ? sql`` : sql`and path > ${after}`}
          order by path
          limit ${LOAD_PAGE_SIZE}
        ) p`);
      const rows = pageRows(result);
      for (const row of rows) {
        const entry = toEntry(row);
        tree.set(entry.path, entry);
        persisted.set(entry.path, snapshot(entry));
      }
      if (rows.length < LOAD_PAGE_SIZE) return tree;
      after = rows[rows.length - 1]!.path;
    }
  }

  /**
   * The last-known records of these paths on one side (a path without one is absent), read
   * without loading the whole state: what a watch compares notified paths with.
   */
  async loadEntries(side: Side, paths: readonly string[]): Promise<Map<string, Entry>> {
    const entries = new Map<string, Entry>();
    for (let start = 0; start < paths.length; start += STATE_BATCH_SIZE) {
      const batch = paths.slice(start, start + STATE_BATCH_SIZE);
      const rows = await this.db
        .select()
        .from(pairState)
        .where(
          and(eq(pairState.pairId, this.pairId), eq(pairState.side, side), inArray(pairState.path, batch)),
        );
      for (const row of rows) entries.set(row.path, toEntry(row));
    }
    return entries;
  }

  async save(state: LastKnownState): Promise<void> {
    this.#hasStateRead = undefined;
    const persisted = this.#persisted;
    const upserts: StateRow[] = [];
    const deletes: Array<{ side: Side; path: string }> = [];
    if (persisted) {
      for (const side of SIDES) {
        for (const [path, entry] of state[side]) {
          if (!isSame(persisted[side].get(path), entry)) upserts.push(toRow(side, entry));
        }
        for (const path of persisted[side].keys()) if (!state[side].has(path)) deletes.push({ side, path });
      }
    }
    if (persisted && upserts.length === 0 && deletes.length === 0) {
      // Nothing differs (every change was written as it happened): the fence (or the mark)
      // alone, one statement, no transaction around it.
      await this.#fence(this.db);
      await this.#markHasState(this.db);
      return;
    }
    await this.db.transaction(async (tx) => {
      await this.#fence(tx);
      if (!persisted) {
        // Nothing known about what is stored: replace it all.
        await tx.delete(pairState).where(eq(pairState.pairId, this.pairId));
        const rows = function* (): Generator<StateRow> {
          for (const side of SIDES) for (const entry of state[side].values()) yield toRow(side, entry);
        };
        for (const batch of batches(rows(), STATE_BATCH_SIZE)) await tx.execute(this.#upsert(batch));
      } else {
        for (const batch of batches(deletes, STATE_BATCH_SIZE)) await tx.execute(this.#delete(batch));
        for (const batch of batches(upserts, STATE_BATCH_SIZE)) await tx.execute(this.#upsert(batch));
      }
      await this.#markHasState(tx);
    });
    if (persisted) {
      for (const { side, path } of deletes) persisted[side].delete(path);
      for (const row of upserts) persisted[row.side].set(row.path, snapshot(state[row.side].get(row.path)!));
    } else {
      this.#persisted = { source: snapshots(state.source), destination: snapshots(state.destination) };
    }
  }

  async update(changes: StateChange[]): Promise<void> {
    if (changes.length === 0) return;
    this.#hasStateRead = undefined;
    const upserts: StateRow[] = [];
    const deletes: Array<{ side: Side; path: string }> = [];
    for (const change of changes) {
      if (change.source) upserts.push(toRow('source', change.source));
      else deletes.push({ side: 'source', path: change.path });
      if (change.destination) upserts.push(toRow('destination', change.destination));
      else deletes.push({ side: 'destination', path: change.path });
    }
    await this.db.transaction(async (tx) => {
      await this.#fence(tx);
      for (const batch of batches(deletes, STATE_BATCH_SIZE)) await tx.execute(this.#delete(batch));
      for (const batch of batches(upserts, STATE_BATCH_SIZE)) await tx.execute(this.#upsert(batch));
      await this.#markHasState(tx);
    });
    const persisted = this.#persisted;
    if (persisted) {
      for (const change of changes) {
        for (const side of SIDES) {
          const entry = change[side];
          if (entry) persisted[side].set(change.path, snapshot(entry));
          else persisted[side].delete(change.path);
        }
      }
    }
  }

  async loadMetadata(): Promise<SyncMetadata | null> {
    if (this.#isMetadataAbsent) return null;
    const [row] = await this.db
      .select({ metadata: pairMetadata.metadata, hasState: pairMetadata.hasState })
      .from(pairMetadata)
      .where(eq(pairMetadata.pairId, this.pairId));
    this.#hasStateRead = row?.hasState ?? false;
    if (!row?.metadata) {
      this.#isMetadataAbsent = this.#lockEpoch !== undefined;
      return null;
    }
    const metadata = row.metadata as unknown as SyncMetadata;
    if (typeof metadata.pairId !== 'string' || !Array.isArray(metadata.pendingConflicts)) {
      throw new SyncError('STATE_CORRUPT', `sync metadata of pair ${this.pairId} is unreadable`);
    }
    return metadata;
  }

  async saveMetadata(metadata: SyncMetadata): Promise<void> {
    this.#isMetadataAbsent = false;
    const value = metadata as unknown as Record<string, unknown>;
    if (this.#lockEpoch !== undefined) {
      const updated = await this.db
        .update(pairMetadata)
        .set({ metadata: value, updatedAt: new Date() })
        .where(and(eq(pairMetadata.pairId, this.pairId), eq(pairMetadata.lockEpoch, this.#lockEpoch)))
        .returning({ pairId: pairMetadata.pairId });
      if (updated.length === 0) throw this.#fencedOut();
      return;
    }
    await this.db
      .insert(pairMetadata)
      .values({ pairId: this.pairId, metadata: value })
      .onConflictDoUpdate({ target: pairMetadata.pairId, set: { metadata: value, updatedAt: new Date() } });
  }

  #upsert(rows: StateRow[]) {
    return sql`
      insert into pair_state (pair_id, side, path, size, mtime, is_dir, hash, hash_algorithm, file_id, ctime)
      select ${this.pairId}, r.side, r.path, r.size, r.mtime, r.is_dir, r.hash, r.hash_algorithm, r.file_id, r.ctime
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(
        side text, path text, size bigint, mtime double precision, is_dir boolean,
        hash text, hash_algorithm text, file_id text, ctime double precision)
      on conflict (pair_id, side, path) do update set
        size = excluded.size, mtime = excluded.mtime, is_dir = excluded.is_dir, hash = excluded.hash,
        hash_algorithm = excluded.hash_algorithm, file_id = excluded.file_id, ctime = excluded.ctime`;
  }

  #delete(rows: Array<{ side: Side; path: string }>) {
    return sql`
      delete from pair_state s
      using jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as d(side text, path text)
      where s.pair_id = ${this.pairId} and s.side = d.side and s.path = d.path`;
  }

  /**
   * With a lock epoch: marks the pair as having a state, only while the epoch is this
   * run's, and keeps the row locked until the transaction ends. First in every write.
   */
  async #fence(tx: Pick<Database, 'execute'>): Promise<void> {
    if (this.#lockEpoch === undefined) return;
    const result = await tx.execute(sql`
      update pair_metadata set has_state = true, updated_at = now()
      where pair_id = ${this.pairId} and lock_epoch = ${this.#lockEpoch}
      returning pair_id`);
    if (rowCount(result) === 0) throw this.#fencedOut();
  }

  /** Without a lock epoch: marks the pair as having a state (the fenced write did already). */
  async #markHasState(tx: Pick<Database, 'execute'>): Promise<void> {
    if (this.#lockEpoch !== undefined) return;
    await tx.execute(sql`
      insert into pair_metadata (pair_id, has_state) values (${this.pairId}, true)
      on conflict (pair_id) do update set has_state = true, updated_at = now()`);
  }

  #fencedOut(): PairLockLostError {
    return new PairLockLostError(
      `the lock of pair ${this.pairId} was taken by a newer run (lock epoch ${this.#lockEpoch} is no longer current); this run's state was not written`,
    );
  }
}

const SIDES: readonly Side[] = ['source', 'destination'];

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

/** The rows `loadPart` read: one JSON array of row tuples, each led by its side. */
function sideRows(value: unknown): Array<{ side: Side; row: StoredRow }> {
  const tuples = typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
  if (!Array.isArray(tuples)) throw new SyncError('STATE_CORRUPT', 'a page of pair_state rows is unreadable');
  return tuples.map((tuple: unknown) => {
    const [side, ...rest] = tuple as unknown[];
    if (side !== 'source' && side !== 'destination') {
      throw new SyncError('STATE_CORRUPT', `a pair_state row has no side ("${String(side)}")`);
    }
    return { side, row: tupleRow(rest) };
  });
}

/** `loadPart`'s counts: `{ side: [entries, files] }`, a side without rows absent. */
function partCounts(value: unknown): PartialState['counts'] {
  const bySide = (typeof value === 'string' ? JSON.parse(value) : value) as Record<string, unknown> | null;
  const counts: PartialState['counts'] = {
    source: { entries: 0, files: 0 },
    destination: { entries: 0, files: 0 },
  };
  for (const side of SIDES) {
    const pair = bySide?.[side];
    if (pair === undefined) continue;
    const [entries, files] = (Array.isArray(pair) ? pair : []).map(Number);
    if (!Number.isSafeInteger(entries) || !Number.isSafeInteger(files)) {
      throw new SyncError('STATE_CORRUPT', 'the pair_state counts are unreadable');
    }
    counts[side] = { entries: entries!, files: files! };
  }
  return counts;
}

/** A page of `pair_state` rows as `#loadSide` reads them: one JSON array of row tuples. */
function pageRows(result: unknown): StoredRow[] {
  const [first] = (result as { rows?: Array<{ rows?: unknown }> }).rows ?? [];
  const value = typeof first?.rows === 'string' ? (JSON.parse(first.rows) as unknown) : first?.rows;
  if (!Array.isArray(value)) throw new SyncError('STATE_CORRUPT', 'a page of pair_state rows is unreadable');
  return value.map((tuple: unknown) => tupleRow(tuple as unknown[]));
}

/** One row tuple (path, size, mtime, is_dir, hash, hash_algorithm, file_id, ctime); `toEntry` checks it. */
function tupleRow(tuple: unknown[]): StoredRow {
  const [path, size, mtime, isDir, hash, hashAlgorithm, fileId, ctime] = tuple;
  return { path, size, mtime, isDir, hash, hashAlgorithm, fileId, ctime } as StoredRow;
}

/** Rows a raw statement returned (node-postgres and PGlite both answer `{ rows }`). */
function rowCount(result: unknown): number {
  const rows = (result as { rows?: unknown }).rows;
  return Array.isArray(rows) ? rows.length : 0;
}

function snapshots(tree: Tree): Map<string, Snapshot> {
  const copies = new Map<string, Snapshot>();
  for (const [path, entry] of tree) copies.set(path, snapshot(entry));
  return copies;
}

function* batches<T>(items: Iterable<T>, size: number): Generator<T[]> {
  let batch: T[] = [];
  for (const item of items) {
    batch.push(item);
    if (batch.length === size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}
