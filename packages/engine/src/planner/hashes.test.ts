import { describe, expect, it } from 'vitest';
import { file, planInput, T0, tree } from '../../test/planner-fixtures.js';
import type { ComparisonMode } from '../model.js';
import { hashNeeds, inheritHashes } from './hash-needs.js';

const bare = (path: string, content: string, mtime = T0, id?: string) =>
  file(path, content, { noHash: true, mtime, ...(id ? { id } : {}) });

describe('hashNeeds', () => {
  it('asks for nothing when sizes and mtimes settle every comparison', () => {
    const needs = hashNeeds(
      planInput({
        source: [bare('same.txt', 'abc'), bare('grown.txt', 'abcd', T0 + 60_000), bare('new.txt', 'n')],
        destination: [bare('same.txt', 'abc'), bare('grown.txt', 'abc')],
        lastKnown: {
          source: [file('same.txt', 'abc'), file('grown.txt', 'abc')],
          destination: [file('same.txt', 'abc'), file('grown.txt', 'abc')],
        },
      }),
    );
    expect(needs).toEqual({ source: [], destination: [] });
  });

  it('asks for a hash when the size is equal but the mtime moved since the last sync', () => {
    const needs = hashNeeds(
      planInput({
        source: [bare('touched.txt', 'abc', T0 + 60_000)],
        destination: [bare('touched.txt', 'abc')],
        lastKnown: { source: [file('touched.txt', 'abc')], destination: [file('touched.txt', 'abc')] },
      }),
    );
    expect(needs).toEqual({ source: ['touched.txt'], destination: [] });
  });

  it.each(['SIZE_AND_MTIME', 'MTIME_ONLY', 'SIZE_ONLY'] as ComparisonMode[])(
    '%s: asks for both sides of a same-size pair new on both sides whose mtimes differ',
    (comparison) => {
      const needs = hashNeeds(
        planInput({
          source: [bare('a.txt', 'abc', T0 + 60_000), bare('big.txt', 'abcd', T0 + 60_000)],
          destination: [bare('a.txt', 'abc'), bare('big.txt', 'abc')],
          lastKnown: null,
          config: { comparisonMode: comparison },
        }),
      );
      expect(needs).toEqual({ source: ['a.txt'], destination: ['a.txt'] });
    },
  );

  it('SIZE_ONLY: asks for both sides of a same-size pair both sides modified, even with equal mtimes', () => {
    const record = file('f.txt', 'ab');
    const needs = hashNeeds(
      planInput({
        source: [bare('f.txt', 'abc', T0), bare('quiet.txt', 'abc')],
        destination: [bare('f.txt', 'xyz', T0), bare('quiet.txt', 'abc')],
        lastKnown: {
          source: [record, file('quiet.txt', 'abc')],
          destination: [record, file('quiet.txt', 'abc')],
        },
        config: { comparisonMode: 'SIZE_ONLY' },
      }),
    );
    expect(needs).toEqual({ source: ['f.txt'], destination: ['f.txt'] });
  });

  it('SIZE_AND_MTIME: asks for nothing where a path changed on one side only, or size and mtime agree', () => {
    const record = file('one.txt', 'ab');
    const needs = hashNeeds(
      planInput({
        source: [bare('one.txt', 'abc', T0 + 60_000), bare('agree.txt', 'abc')],
        destination: [bare('one.txt', 'ab'), bare('agree.txt', 'xyz')],
        lastKnown: { source: [record], destination: [record] },
        config: { comparisonMode: 'SIZE_AND_MTIME' },
      }),
    );
    expect(needs).toEqual({ source: [], destination: [] });
  });

  it('asks for both sides on a first sync where sizes are equal, also with mtimes within 2 s', () => {
    const needs = hashNeeds(
      planInput({
        source: [bare('a.txt', 'abc', T0 + 60_000), bare('b.txt', 'abc', T0 + 1_000), bare('c.txt', 'abcd')],
        destination: [bare('a.txt', 'xyz'), bare('b.txt', 'xyz'), bare('c.txt', 'xyz')],
        lastKnown: null,
      }),
    );
    expect(needs).toEqual({ source: ['a.txt', 'b.txt'], destination: ['a.txt', 'b.txt'] });
  });

  it('asks for a file whose mtime moved by less than 2 s since the last sync', () => {
    const needs = hashNeeds(
      planInput({
        source: [bare('f.txt', 'xyz', T0 + 1_000)],
        destination: [bare('f.txt', 'abc')],
        lastKnown: { source: [file('f.txt', 'abc')], destination: [file('f.txt', 'abc')] },
      }),
    );
    expect(needs).toEqual({ source: ['f.txt'], destination: [] });
  });

  it('asks for nothing across sides when only one side changed', () => {
    const needs = hashNeeds(
      planInput({
        source: [bare('f.txt', 'xyz', T0 + 60_000)],
        destination: [bare('f.txt', 'abc')],
        lastKnown: { source: [bare('f.txt', 'abc')], destination: [bare('f.txt', 'abc')] },
      }),
    );
    expect(needs).toEqual({ source: [], destination: [] });
  });

  it('asks only for the side that lacks a hash', () => {
    const needs = hashNeeds(
      planInput({
        source: [file('f.txt', 'abc', { mtime: T0 + 60_000 })],
        destination: [bare('f.txt', 'xyz')],
        lastKnown: null,
      }),
    );
    expect(needs).toEqual({ source: [], destination: ['f.txt'] });
  });

  it('asks for a new file whose size equals a file gone from the same side (a rename candidate)', () => {
    const needs = hashNeeds(
      planInput({
        source: [bare('moved.txt', 'content'), bare('other-size.txt', 'different length')],
        destination: [bare('old.txt', 'content')],
        lastKnown: { source: [file('old.txt', 'content')], destination: [file('old.txt', 'content')] },
        config: { comparisonMode: 'SIZE_ONLY' },
      }),
    );
    expect(needs).toEqual({ source: ['moved.txt'], destination: [] });
  });

  it('does not hash a rename candidate that the backend id already matches', () => {
    const needs = hashNeeds(
      planInput({
        source: [bare('moved.txt', 'content', T0, 'inode-1')],
        destination: [bare('old.txt', 'content')],
        lastKnown: {
          source: [file('old.txt', 'content', { id: 'inode-1' })],
          destination: [file('old.txt', 'content')],
        },
      }),
    );
    expect(needs).toEqual({ source: [], destination: [] });
  });

  it('does not look for renames when rename detection is off', () => {
    const needs = hashNeeds(
      planInput({
        source: [bare('moved.txt', 'content')],
        lastKnown: { source: [file('old.txt', 'content')], destination: [] },
        config: { detectRenames: false },
      }),
    );
    expect(needs).toEqual({ source: [], destination: [] });
  });

  it('asks for every file without a hash under HASH_ONLY, and never for directories', () => {
    const needs = hashNeeds(
      planInput({
        source: [bare('a.txt', 'a'), file('b.txt', 'b'), { path: 'd', size: 0, mtime: T0, isDir: true }],
        destination: [bare('c.txt', 'c')],
        lastKnown: null,
        config: { comparisonMode: 'HASH_ONLY' },
      }),
    );
    expect(needs).toEqual({ source: ['a.txt'], destination: ['c.txt'] });
  });

  it.each<ComparisonMode>(['SIZE_ONLY', 'MTIME_ONLY', 'SIZE_AND_MTIME'])(
    '%s asks for no content hashes for comparisons',
    (comparison) => {
      const needs = hashNeeds(
        planInput({
          source: [bare('f.txt', 'abc', T0 + 60_000)],
          destination: [bare('f.txt', 'xyz')],
          lastKnown: { source: [file('f.txt', 'abc')], destination: [file('f.txt', 'abc')] },
          config: { comparisonMode: comparison },
        }),
      );
      expect(needs).toEqual({ source: [], destination: [] });
    },
  );
});

describe('inheritHashes', () => {
  it('reuses the recorded hash when size and mtime are unchanged', () => {
    const current = tree(bare('f.txt', 'abc'));
    inheritHashes(current, tree(file('f.txt', 'abc')));
    expect(current.get('f.txt')).toMatchObject({ hash: 'hash(abc)', hashAlgorithm: 'xxh3-64' });
  });

  it.each([
    ['the mtime moved', bare('f.txt', 'abc', T0 + 1)],
    ['the size changed', bare('f.txt', 'abcd')],
    ['the backend id changed', bare('f.txt', 'abc', T0, 'inode-2')],
  ])('does not reuse the recorded hash when %s', (_name, entry) => {
    const current = tree(entry);
    inheritHashes(current, tree(file('f.txt', 'abc', { id: 'inode-1' })));
    expect(current.get('f.txt')?.hash).toBeUndefined();
  });

  it('reuses the hash when the ids match, and keeps a hash the backend already gave', () => {
    const current = tree(bare('f.txt', 'abc', T0, 'inode-1'), file('g.txt', 'new'));
    inheritHashes(current, tree(file('f.txt', 'abc', { id: 'inode-1' }), file('g.txt', 'old')));
    expect(current.get('f.txt')?.hash).toBe('hash(abc)');
    expect(current.get('g.txt')?.hash).toBe('hash(new)');
  });

  it.each([
    ['the ctime moved (an in-place edit that set the mtime back)', 2, 1],
    ['the record has no ctime (kept before states had them)', 2, undefined],
  ])(
    'does not reuse the recorded hash when %s, and the default mode asks for one',
    (_name, now, recorded) => {
      const entry = { ...bare('f.txt', 'abc', T0, 'inode-1'), ctime: now };
      const record = {
        ...file('f.txt', 'abc', { id: 'inode-1' }),
        ...(recorded === undefined ? {} : { ctime: recorded }),
      };
      const current = tree(entry);
      inheritHashes(current, tree(record));
      expect(current.get('f.txt')?.hash).toBeUndefined();
      const needs = hashNeeds(
        planInput({
          source: [...current.values()],
          destination: [file('f.txt', 'abc')],
          lastKnown: { source: [record], destination: [file('f.txt', 'abc')] },
        }),
      );
      expect(needs).toEqual({ source: ['f.txt'], destination: [] });
    },
  );

  it('reuses the hash with an equal ctime, or where the backend has none', () => {
    const current = tree({ ...bare('f.txt', 'abc', T0, 'inode-1'), ctime: 5 }, bare('g.txt', 'abc'));
    inheritHashes(
      current,
      tree({ ...file('f.txt', 'abc', { id: 'inode-1' }), ctime: 5 }, file('g.txt', 'abc')),
    );
    expect(current.get('f.txt')?.hash).toBe('hash(abc)');
    expect(current.get('g.txt')?.hash).toBe('hash(abc)');
  });

  it('does nothing without a last-known state', () => {
    const current = tree(bare('f.txt', 'abc'));
    inheritHashes(current, undefined);
    expect(current.get('f.txt')?.hash).toBeUndefined();
  });
});
