import { describe, expect, it } from 'vitest';
import type { Entry } from '../model.js';
import { MemoryStateStore } from './memory-state-store.js';

const file = (path: string, size = 1): Entry => ({ path, size, mtime: 1000, isDir: false });

describe('MemoryStateStore', () => {
  it('returns null before anything was recorded (first sync)', async () => {
    expect(await new MemoryStateStore().load()).toBeNull();
  });

  it('applies per-action updates and forgets paths set to null', async () => {
    const store = new MemoryStateStore();
    await store.update([
      { path: 'a', source: file('a'), destination: file('a') },
      { path: 'b', source: file('b'), destination: file('b') },
    ]);
    await store.update([{ path: 'a', source: null, destination: null }]);
    const state = await store.load();
    expect([...state!.source.keys()]).toEqual(['b']);
    expect([...state!.destination.keys()]).toEqual(['b']);
  });

  it('keeps its own copy, unaffected by later changes to what was saved or loaded', async () => {
    const store = new MemoryStateStore();
    const state = { source: new Map([['a', file('a')]]), destination: new Map([['a', file('a')]]) };
    await store.save(state);
    state.source.clear();
    const loaded = await store.load();
    loaded!.destination.get('a')!.size = 99;
    const again = await store.load();
    expect(again!.source.has('a')).toBe(true);
    expect(again!.destination.get('a')!.size).toBe(1);
  });
});
