import { describe, expect, it } from 'vitest';
import { describeFileStart } from './file-preview.js';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('describeFileStart', () => {
  it('returns valid UTF-8 as text', () => {
    expect(describeFileStart(bytes('héllo wörld ✓'), false)).toEqual({
      isText: true,
      text: 'héllo wörld ✓',
      truncated: false,
    });
  });

  it('calls a file with a NUL byte binary', () => {
    expect(describeFileStart(new Uint8Array([0x61, 0x00, 0x62]), false)).toEqual({
      isText: false,
      text: null,
      truncated: false,
    });
  });

  it('calls invalid UTF-8 binary', () => {
    expect(describeFileStart(new Uint8Array([0x61, 0xff, 0xfe, 0x62]), true)).toEqual({
      isText: false,
      text: null,
      truncated: true,
    });
  });

  it('drops a character cut in half by the end of a truncated read', () => {
    const cut = bytes('ab✓').subarray(0, 4);
    expect(describeFileStart(cut, true)).toEqual({ isText: true, text: 'ab', truncated: true });
    // The same bytes as a whole file are not valid UTF-8.
    expect(describeFileStart(cut, false).isText).toBe(false);
  });
});
