import { createInterface, type Interface } from 'node:readline/promises';
import type { Readable, Writable } from 'node:stream';
import type { ConflictHandler, ConflictResolution, Entry } from '@syncengine/engine';
import { formatBytes, formatTime } from './format.js';

const ANSWERS: Record<string, ConflictResolution> = {
  s: 'source',
  source: 'source',
  d: 'destination',
  destination: 'destination',
  b: 'keep-both',
  both: 'keep-both',
  'keep-both': 'keep-both',
  k: 'skip',
  skip: 'skip',
};

const describe = (entry: Entry | null) =>
  entry === null
    ? 'deleted'
    : entry.isDir
      ? `folder, modified ${formatTime(entry.mtime)}`
      : `${formatBytes(entry.size)}, modified ${formatTime(entry.mtime)}`;

/**
 * Asks the user, on the terminal, how to settle each conflict. Questions are asked one
 * at a time even when the engine reports conflicts concurrently. An upper-case answer
 * applies to every later conflict of the run too.
 */
export function terminalConflictHandler(io: {
  input: Readable;
  output: Writable;
  /** Called before each question, e.g. to hide a progress line. */
  beforePrompt?: () => void;
  /** Called after each answer. */
  afterPrompt?: () => void;
}): ConflictHandler & { close(): void } {
  // Created at the first question, so nothing typed before it is taken as an answer.
  let rl: Interface | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  let forAll: ConflictResolution | null = null;
  let closed = false;
  const open = (): Interface => {
    if (rl) return rl;
    rl = createInterface({ input: io.input, output: io.output, terminal: true });
    rl.on('close', () => {
      closed = true;
    });
    return rl;
  };

  const ask = async (conflict: Parameters<ConflictHandler>[0]): Promise<ConflictResolution> => {
    if (forAll) return forAll;
    if (closed) return 'skip';
    io.beforePrompt?.();
    try {
      return await askOnce(open(), conflict);
    } finally {
      io.afterPrompt?.();
    }
  };

  const askOnce = async (
    rl: Interface,
    conflict: Parameters<ConflictHandler>[0],
  ): Promise<ConflictResolution> => {
    io.output.write(
      `\nConflict: ${conflict.path}\n  source:      ${describe(conflict.source)}\n  destination: ${describe(
        conflict.destination,
      )}\n`,
    );
    for (;;) {
      let answer: string;
      try {
        answer = (
          await rl.question('Keep [s]ource, [d]estination, [b]oth, or s[k]ip? (upper case: same for all) ')
        ).trim();
      } catch {
        // stdin closed (Ctrl-D): leave this and every later conflict pending.
        return 'skip';
      }
      const resolution = ANSWERS[answer.toLowerCase()];
      if (resolution) {
        if (answer.length === 1 && answer !== answer.toLowerCase()) forAll = resolution;
        return resolution;
      }
      io.output.write('Please answer s, d, b or k.\n');
    }
  };

  const handler = (conflict: Parameters<ConflictHandler>[0]) => {
    const next = queue.then(() => ask(conflict));
    queue = next.catch(() => undefined);
    return next;
  };
  return Object.assign(handler, { close: () => rl?.close() });
}
