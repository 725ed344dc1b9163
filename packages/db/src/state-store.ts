import type {
  Entry,
  LastKnownState,
  Side,
  StateChange,
  StateStore,
  SyncMetadata,
  Tree,
} from '@syncengine/engine';
import { SyncError } from '@syncengine/engine';
import { and, asc, eq, gt, sql } from 'drizzle-orm';
import type { Database } from './database.js';
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
});

/**
 * The engine's `StateStore` on Postgres (or PGlite): the last-known state of one pair in
 * `pair_state`, its metadata in `pair_metadata`. Writes go in batches of
 * {@link STATE_BATCH_SIZE} rows, each batch one statement whose rows travel as a single
 * JSON parameter (so the parameter limit never applies); `update()` upserts.
 */
export class PostgresStateStore implements StateStore {
  constructor(
    private readonly db: Database,
    readonly pairId: string,
  ) {}

  async load(): Promise<LastKnownState | null> {
    const [meta] = await this.db
      .select({ hasState: pairMetadata.hasState })
      .from(pairMetadata)
      .where(eq(pairMetadata.pairId, this.pairId));
    if (!meta?.hasState) return null;
    return { source: await this.#loadSide('source'), destination: await this.#loadSide('destination') };
  }

  async #loadSide(side: Side): Promise<Tree> {
    const tree: Tree = new Map();
    let after: string | null = null;
    for (;;) {
      const conditions = [eq(pairState.pairId, this.pairId), eq(pairState.side, side)];
      if (after !== null) conditions.push(gt(pairState.path, after));
      const rows = await this.db
        .select()
        .from(pairState)
        .where(and(...conditions))
        .orderBy(asc(pairState.path))
        .limit(LOAD_PAGE_SIZE);
      for (const row of rows) {
        if (typeof row.path !== 'string' || !Number.isFinite(row.size) || !Number.isFinite(row.mtime)) {
          throw new SyncError('STATE_CORRUPT', `pair_state row for "${row.path}" is unreadable`);
        }
        const entry: Entry = { path: row.path, size: row.size, mtime: row.mtime, isDir: row.isDir };
        if (row.hash !== null) entry.hash = row.hash;
        if (row.hashAlgorithm !== null) entry.hashAlgorithm = row.hashAlgorithm;
        if (row.fileId !== null) entry.id = row.fileId;
        tree.set(row.path, entry);
      }
      if (rows.length < LOAD_PAGE_SIZE) return tree;
      after = rows[rows.length - 1]!.path;
    }
  }

  async save(state: LastKnownState): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.delete(pairState).where(eq(pairState.pairId, this.pairId));
      const rows = function* (): Generator<StateRow> {
        for (const entry of state.source.values()) yield toRow('source', entry);
        for (const entry of state.destination.values()) yield toRow('destination', entry);
      };
      for (const batch of batches(rows(), STATE_BATCH_SIZE)) {
        await tx.execute(this.#upsert(batch));
      }
      await tx.execute(this.#markHasState());
    });
  }

  async update(changes: StateChange[]): Promise<void> {
    if (changes.length === 0) return;
    const upserts: StateRow[] = [];
    const deletes: Array<{ side: Side; path: string }> = [];
    for (const change of changes) {
      if (change.source) upserts.push(toRow('source', change.source));
      else deletes.push({ side: 'source', path: change.path });
      if (change.destination) upserts.push(toRow('destination', change.destination));
      else deletes.push({ side: 'destination', path: change.path });
    }
    await this.db.transaction(async (tx) => {
      for (const batch of batches(deletes, STATE_BATCH_SIZE)) {
        await tx.execute(sql`
          delete from pair_state s
          using jsonb_to_recordset(${JSON.stringify(batch)}::jsonb) as d(side text, path text)
          where s.pair_id = ${this.pairId} and s.side = d.side and s.path = d.path`);
      }
      for (const batch of batches(upserts, STATE_BATCH_SIZE)) {
        await tx.execute(this.#upsert(batch));
      }
      await tx.execute(this.#markHasState());
    });
  }

  async loadMetadata(): Promise<SyncMetadata | null> {
    const [row] = await this.db
      .select({ metadata: pairMetadata.metadata })
      .from(pairMetadata)
      .where(eq(pairMetadata.pairId, this.pairId));
    if (!row?.metadata) return null;
    const metadata = row.metadata as unknown as SyncMetadata;
    if (typeof metadata.pairId !== 'string' || !Array.isArray(metadata.pendingConflicts)) {
      throw new SyncError('STATE_CORRUPT', `sync metadata of pair ${this.pairId} is unreadable`);
    }
    return metadata;
  }

  async saveMetadata(metadata: SyncMetadata): Promise<void> {
    const value = metadata as unknown as Record<string, unknown>;
    await this.db
      .insert(pairMetadata)
      .values({ pairId: this.pairId, metadata: value })
      .onConflictDoUpdate({ target: pairMetadata.pairId, set: { metadata: value, updatedAt: new Date() } });
  }

  #upsert(rows: StateRow[]) {
    return sql`
      insert into pair_state (pair_id, side, path, size, mtime, is_dir, hash, hash_algorithm, file_id)
      select ${this.pairId}, r.side, r.path, r.size, r.mtime, r.is_dir, r.hash, r.hash_algorithm, r.file_id
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(
        side text, path text, size bigint, mtime double precision, is_dir boolean,
        hash text, hash_algorithm text, file_id text)
      on conflict (pair_id, side, path) do update set
        size = excluded.size, mtime = excluded.mtime, is_dir = excluded.is_dir, hash = excluded.hash,
        hash_algorithm = excluded.hash_algorithm, file_id = excluded.file_id`;
  }

  #markHasState() {
    return sql`
      insert into pair_metadata (pair_id, has_state) values (${this.pairId}, true)
      on conflict (pair_id) do update set has_state = true, updated_at = now()`;
  }
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
