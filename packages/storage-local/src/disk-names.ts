/**
 * File names that are not valid UTF-8 (any byte sequence is allowed on Linux) are kept
 * byte-exact: each byte that is not part of a valid UTF-8 sequence becomes the lone
 * surrogate U+DC80–U+DCFF (the "surrogateescape" convention), and `diskName` turns such a
 * path back into the original bytes for every file system call.
 */
export function decodeFileName(bytes: Buffer): string {
  const text = bytes.toString('utf8');
  if (!text.includes('\uFFFD')) return text;
  let result = '';
  let index = 0;
  while (index < bytes.length) {
    const lead = bytes[index] as number;
    const length =
      lead < 0x80
        ? 1
        : lead >= 0xc2 && lead < 0xe0
          ? 2
          : lead >= 0xe0 && lead < 0xf0
            ? 3
            : lead >= 0xf0 && lead < 0xf5
              ? 4
              : 0;
    if (length > 0 && index + length <= bytes.length) {
      const sequence = bytes.subarray(index, index + length);
      const decoded = sequence.toString('utf8');
      // Valid only when it decodes to one code point without replacement (rejects overlongs and surrogates).
      if (!decoded.includes('\uFFFD') || (length === 3 && sequence.equals(REPLACEMENT_BYTES))) {
        result += decoded;
        index += length;
        continue;
      }
    }
    result += String.fromCharCode(0xdc00 + lead);
    index++;
  }
  return result;
}

const REPLACEMENT_BYTES = Buffer.from([0xef, 0xbf, 0xbd]);
/** A low surrogate U+DC80–U+DCFF not preceded by a high surrogate: an escaped raw byte. */
const ESCAPED_BYTE = /(?<![\uD800-\uDBFF])[\uDC80-\uDCFF]/;

/** The path to hand to the file system: the string itself, or its bytes when it holds escaped raw bytes. */
export function diskName(path: string): string | Buffer {
  if (!ESCAPED_BYTE.test(path)) return path;
  const parts: Buffer[] = [];
  let plain = '';
  for (let i = 0; i < path.length; i++) {
    const code = path.charCodeAt(i);
    const isHighBefore = i > 0 && path.charCodeAt(i - 1) >= 0xd800 && path.charCodeAt(i - 1) <= 0xdbff;
    if (code >= 0xdc80 && code <= 0xdcff && !isHighBefore) {
      parts.push(Buffer.from(plain, 'utf8'), Buffer.from([code - 0xdc00]));
      plain = '';
    } else plain += path[i];
  }
  parts.push(Buffer.from(plain, 'utf8'));
  return Buffer.concat(parts);
}
