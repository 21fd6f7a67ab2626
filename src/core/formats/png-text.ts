/**
 * PNG text chunks: write a `tEXt` chunk into a PNG and read `tEXt`/`iTXt` chunks back, the way
 * SD tools store generation parameters (keyword `parameters`). Bytes in, bytes out; no DOM.
 */

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && SIGNATURE.every((v, i) => bytes[i] === v);
}

interface Chunk {
  type: string;
  /** Offset of the chunk's length field. */
  start: number;
  data: Uint8Array;
}

function* chunks(bytes: Uint8Array): Generator<Chunk, void> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 8;
  while (offset + 12 <= bytes.length) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    if (offset + 12 + length > bytes.length) return;
    yield { type, start: offset, data: bytes.subarray(offset + 8, offset + 8 + length) };
    offset += 12 + length;
  }
}

const latin1 = (text: string): Uint8Array => Uint8Array.from(text, (ch) => ch.charCodeAt(0) & 0xff);

/** Latin-1 bytes → text, in slices: spreading a whole chunk into fromCharCode overflowed the stack past ~120k. */
function latin1Text(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 8192) out += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return out;
}
const utf8 = new TextEncoder();

/**
 * A copy of `png` with a text chunk right after IHDR. Latin-1 text goes in `tEXt` (what other SD
 * tools read); text with other characters goes in `iTXt` (UTF-8), which they also read.
 */
export function addPngText(png: Uint8Array, keyword: string, text: string): Uint8Array {
  if (!isPng(png)) throw new RangeError('Not a PNG file.');
  const first = chunks(png).next().value;
  if (!first || first.type !== 'IHDR') throw new RangeError('PNG without IHDR.');
  const isLatin1 = [...text].every((ch) => ch.charCodeAt(0) < 256);
  const head = latin1(keyword);
  // tEXt: keyword NUL text. iTXt: keyword NUL, no compression (0, 0), empty language and translated keyword (NUL NUL).
  const content = isLatin1 ? latin1(text) : utf8.encode(text);
  const gap = isLatin1 ? 1 : 5;
  const body = new Uint8Array(head.length + gap + content.length);
  body.set(head, 0);
  body.set(content, head.length + gap);
  const type = latin1(isLatin1 ? 'tEXt' : 'iTXt');
  const chunk = new Uint8Array(12 + body.length);
  const view = new DataView(chunk.buffer);
  view.setUint32(0, body.length);
  chunk.set(type, 4);
  chunk.set(body, 8);
  view.setUint32(8 + body.length, crc32(chunk.subarray(4, 8 + body.length)));
  const insertAt = first.start + 12 + first.data.length;
  const out = new Uint8Array(png.length + chunk.length);
  out.set(png.subarray(0, insertAt), 0);
  out.set(chunk, insertAt);
  out.set(png.subarray(insertAt), insertAt + chunk.length);
  return out;
}

/** Every tEXt and (uncompressed) iTXt chunk, keyword → text. */
export function readPngText(png: Uint8Array): Map<string, string> {
  const out = new Map<string, string>();
  if (!isPng(png)) return out;
  const decoder = new TextDecoder();
  for (const { type, data } of chunks(png)) {
    if (type === 'IEND') break;
    const zero = data.indexOf(0);
    if (zero <= 0) continue;
    const keyword = latin1Text(data.subarray(0, zero));
    if (type === 'tEXt') {
      out.set(keyword, latin1Text(data.subarray(zero + 1)));
    } else if (type === 'iTXt' && data[zero + 1] === 0) {
      // compression flag 0; skip method, language tag and translated keyword (each NUL-terminated).
      let p = zero + 3;
      for (let n = 0; n < 2; n++) p = data.indexOf(0, p) + 1;
      if (p > 0) out.set(keyword, decoder.decode(data.subarray(p)));
    }
  }
  return out;
}
