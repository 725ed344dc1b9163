import { describe, expect, it } from 'vitest';
import { SyncController } from './controller.js';
import { forEachLimited } from './limit.js';

/** A task that resolves when told to, recording when it started. */
function deferredWork() {
  const started: number[] = [];
  const release = new Map<number, () => void>();
  let running = 0;
  let peak = 0;
  const work = (item: number) =>
    new Promise<void>((resolve) => {
      started.push(item);
      running++;
      peak = Math.max(peak, running);
      release.set(item, () => {
        running--;
        resolve();
      });
    });
  return { work, started, release, peak: () => peak };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('forEachLimited', () => {
  it('runs at most `limit` items at once, in the order of the array', async () => {
    const { work, started, release, peak } = deferredWork();
    const done = forEachLimited([1, 2, 3, 4, 5], 2, work);
    await tick();
    expect(started).toEqual([1, 2]);
    release.get(2)!();
    await tick();
    expect(started).toEqual([1, 2, 3]);
    for (const item of [1, 3, 4, 5]) {
      await tick();
      release.get(item)!();
    }
    await done;
    expect(started).toEqual([1, 2, 3, 4, 5]);
    expect(peak()).toBe(2);
  });

  it('runs every item after a failure, then throws the first failure', async () => {
    const seen: number[] = [];
    const error = await forEachLimited([1, 2, 3, 4], 2, async (item) => {
      seen.push(item);
      if (item === 2) throw new Error('two');
      if (item === 3) throw new Error('three');
    }).catch((caught: unknown) => caught);
    expect(seen.sort()).toEqual([1, 2, 3, 4]);
    expect((error as Error).message).toBe('two');
  });

  it('hands failures to onError and resolves', async () => {
    const failed: Array<[number, string]> = [];
    await forEachLimited(
      [1, 2, 3],
      3,
      async (item) => {
        if (item !== 2) throw new Error(`bad ${item}`);
      },
      { onError: (item, error) => failed.push([item, (error as Error).message]) },
    );
    expect(failed.sort()).toEqual([
      [1, 'bad 1'],
      [3, 'bad 3'],
    ]);
  });

  it('starts nothing while the gate is paused and nothing more once it is cancelled', async () => {
    const gate = new SyncController();
    const { work, started, release } = deferredWork();
    gate.pause();
    const done = forEachLimited([1, 2, 3], 1, work, { gate });
    await tick();
    expect(started).toEqual([]);
    gate.resume();
    await tick();
    expect(started).toEqual([1]);
    gate.cancel();
    release.get(1)!();
    await done;
    expect(started).toEqual([1]);
  });

  it('does nothing for no items or a limit of zero', async () => {
    let calls = 0;
    await forEachLimited([], 4, async () => {
      calls++;
    });
    await forEachLimited([1], 0, async () => {
      calls++;
    });
    expect(calls).toBe(0);
  });
});
