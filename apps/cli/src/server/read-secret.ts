import { usageError } from '../exit-codes.js';
import type { CliIo } from '../sync.command.js';

/**
 * Asks for a secret: on a terminal, without echoing what is typed (Ctrl-C aborts);
 * otherwise the first line of stdin, so scripts can pipe it in.
 */
export function readSecret(prompt: string, io: Pick<CliIo, 'stdin' | 'stderr'>): Promise<string> {
  const { stdin } = io;
  const isTerminal =
    Boolean(stdin.isTTY) && typeof (stdin as { setRawMode?: unknown }).setRawMode === 'function';
  if (isTerminal) io.stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let text = '';
    const finish = (error?: Error) => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      if (isTerminal) {
        (stdin as unknown as { setRawMode(mode: boolean): void }).setRawMode(false);
        io.stderr.write('\n');
      }
      stdin.pause();
      if (error) reject(error);
      else resolve(text);
    };
    const onData = (chunk: Buffer | string) => {
      for (const char of chunk.toString()) {
        if (char === '\r' || char === '\n') return finish();
        if (isTerminal && char === '\u0003') return finish(usageError('cancelled'));
        if (isTerminal && (char === '\u007f' || char === '\b')) text = text.slice(0, -1);
        else text += char;
      }
    };
    const onEnd = () => (text ? finish() : finish(usageError('no token given on stdin')));
    if (isTerminal) (stdin as unknown as { setRawMode(mode: boolean): void }).setRawMode(true);
    stdin.on('data', onData);
    stdin.on('end', onEnd);
    stdin.resume();
  });
}
