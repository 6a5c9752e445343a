/** Decodes a leaf kept as bytes (see `KeyTable.addEncoded`) when it is read. */
export interface EntryDecoder<V> {
  leaf(bytes: Buffer, start: number): V
}

const EMPTY = Buffer.alloc(0)

/**
 * The encoded snapshot entries a `KeyTable` keeps instead of objects: one buffer, only appended to
 * (an offset into it stays valid as it grows), given up whole when the table is cleared. A key kept
 * as characters is read at their start: its length is the byte before them, and its leaf's encoding
 * follows them.
 */
export class EntryBytes {
  #bytes: Buffer = EMPTY
  #used = 0

  /** How many bytes it holds. */
  get used(): number {
    return this.#used
  }

  /** Copies `bytes` from `start` to `end` to its end; returns where byte `start` landed. */
  append(bytes: Uint8Array, start: number, end: number): number {
    const length = end - start
    if (this.#used + length > this.#bytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(64 * 1024, 2 * (this.#used + length)))
      this.#bytes.copy(grown, 0, 0, this.#used)
      this.#bytes = grown
    }
    const at = this.#used
    this.#bytes.set(bytes.subarray(start, end), at)
    this.#used += length
    return at
  }

  /** Gives back its last `length` bytes (no entry refers to them). */
  drop(length: number): void {
    this.#used -= Math.min(Math.max(length, 0), this.#used)
  }

  /** Whether the characters at `chars` are `key`'s. */
  charsAre(chars: number, key: string): boolean {
    const bytes = this.#bytes
    if ((bytes[chars - 1] as number) !== key.length) return false
    for (let i = 0; i < key.length; i++) if (bytes[chars + i] !== key.charCodeAt(i)) return false
    return true
  }

  /** The key whose characters are at `chars`, as a string. */
  keyText(chars: number): string {
    return this.#bytes.toString('latin1', chars, this.leafAfter(chars))
  }

  /** Where the leaf after the characters at `chars` starts. */
  leafAfter(chars: number): number {
    return chars + (this.#bytes[chars - 1] as number)
  }

  /** Decodes the leaf at `at`, or after the characters at `at` when `afterChars`. */
  leaf<V>(decoder: EntryDecoder<V> | undefined, at: number, afterChars: boolean): V {
    if (!decoder) throw new Error('KeyTable: an encoded entry without a decoder')
    return decoder.leaf(this.#bytes, afterChars ? this.leafAfter(at) : at)
  }
}
