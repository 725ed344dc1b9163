import { describe, expect, it } from 'vitest';
import { describeStorageContract, listAll, readAll } from '../../test/testing/storage-contract.js';
import { MemoryStorage } from './memory.js';

describeStorageContract('MemoryStorage', async () => ({
  storage: new MemoryStorage(),
  cleanup: async () => {},
}));

describe('MemoryStorage', () => {
  it('seeds and inspects files synchronously for tests', async () => {
    const storage = new MemoryStorage();
    storage.put('a/b.txt', 'hello', { mtime: 5000 });
    expect(storage.getText('a/b.txt')).toBe('hello');
    expect(storage.paths()).toEqual(['a', 'a/b.txt']);
    expect(await storage.stat('a/b.txt')).toMatchObject({ size: 5, mtime: 5000 });
    expect((await readAll(storage, 'a/b.txt')).toString()).toBe('hello');
  });

  it('behaves case-insensitively (and case-preserving) when configured so', async () => {
    const storage = new MemoryStorage({ capabilities: { caseSensitive: false } });
    storage.put('Readme.MD', 'x');
    expect((await storage.stat('readme.md'))?.path).toBe('Readme.MD');
    await storage.rename('Readme.MD', 'README.md');
    expect((await listAll(storage)).map((entry) => entry.path)).toEqual(['README.md']);
  });
});
