/**
 * The tokens of JSON read in pieces for json-skeleton.ts: strings (checked as JSON.parse checks them, their
 * beginning kept) and the number grammar.
 */

// The characters that end a run of plain string content: a quote, a backslash, or a raw control character.
// biome-ignore lint/suspicious/noControlCharactersInRegex: JSON forbids raw control characters in strings.
const SPECIAL = /["\\\u0000-\u001f]/g;
const SIMPLE_ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);
const HEX = /^[0-9a-fA-F]$/;

/** A number's characters kept: past this the number is kept as NaN, which no usage reader accepts. */
export const NUMBER_CHARS = 512;
/** JSON number grammar as states: 0 '-', 1 '0', 2 int, 3 '.', 4 frac, 5 'e', 6 exp sign, 7 exp digits. */
export const NUMBER_ACCEPTS: ReadonlySet<number> = new Set([1, 2, 4, 7]);

/** True for an ASCII digit's code. */
export function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** The next state of the number grammar, or -1 for a character that cannot follow. */
export function numberStep(state: number, c: number): number {
  const digit = isDigit(c);
  switch (state) {
    case 0:
      return c === 0x30 ? 1 : digit ? 2 : -1;
    case 1:
    case 2:
      if (digit) return state === 2 ? 2 : -1;
      return c === 0x2e ? 3 : c === 0x65 || c === 0x45 ? 5 : -1;
    case 3:
    case 4:
      if (digit) return 4;
      return state === 4 && (c === 0x65 || c === 0x45) ? 5 : -1;
    case 5:
      return digit ? 7 : c === 0x2b || c === 0x2d ? 6 : -1;
    default:
      return digit ? 7 : -1;
  }
}

/** One JSON string being read (after its opening quote), of which at most `limit` raw characters are kept. */
export class JsonString {
  private readonly limit: number;
  /** Still gathering raw characters (false once past the limit, or when the value is not kept). */
  private collect = false;
  private raw: string[] = [];
  /** The escape sequence being read ('' when none). */
  private escape = '';
  /** Raw characters kept. */
  rawChars = 0;
  /** True once the closing quote was read. */
  closed = false;

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Starts a new string; `keep` false reads it without keeping any of it. */
  start(keep: boolean): void {
    this.collect = keep;
    this.raw = [];
    this.rawChars = 0;
    this.escape = '';
    this.closed = false;
  }

  /** Reads from `from`: where it stopped (after the closing quote, or the text's end), or -1 when malformed. */
  read(text: string, from: number): number {
    let i = from;
    while (i < text.length) {
      if (this.escape !== '') {
        if (!this.escapeChar(text[i] ?? '')) return -1;
        i++;
        continue;
      }
      SPECIAL.lastIndex = i;
      const match = SPECIAL.exec(text);
      const at = match === null ? text.length : match.index;
      if (at > i && this.collect) this.gather(text.slice(i, Math.min(at, i + this.limit)), true);
      if (match === null) return text.length;
      const c = text.charCodeAt(at);
      if (c === 0x22) {
        this.closed = true;
        return at + 1;
      }
      if (c !== 0x5c) return -1;
      this.escape = '\\';
      i = at + 1;
    }
    return i;
  }

  /** The raw text kept, decoded; JSON.parse also copies it off the chunks it was sliced from. */
  decoded(): string {
    return JSON.parse(`"${this.raw.join('')}"`) as string;
  }

  /** Reads one character of an escape; false when it cannot be one. */
  private escapeChar(ch: string): boolean {
    if (this.escape.length === 1) {
      if (ch !== 'u' && !SIMPLE_ESCAPES.has(ch)) return false;
      this.escape += ch;
      if (ch === 'u') return true;
    } else {
      if (!HEX.test(ch)) return false;
      this.escape += ch;
      if (this.escape.length < 6) return true;
    }
    this.gather(this.escape, false);
    this.escape = '';
    return true;
  }

  /** Keeps raw text; an escape sequence is kept whole or not at all, so that the raw text decodes. */
  private gather(piece: string, divisible: boolean): void {
    if (!this.collect) return;
    const room = this.limit - this.rawChars;
    if (piece.length <= room) {
      this.raw.push(piece);
      this.rawChars += piece.length;
      return;
    }
    if (divisible && room > 0) {
      this.raw.push(piece.slice(0, room));
      this.rawChars += room;
    }
    this.collect = false;
  }
}
