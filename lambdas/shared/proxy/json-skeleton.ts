/**
 * Reads one JSON text fed in pieces, keeping only a skeleton of it: every object, array, number, literal
 * and string as JSON.parse would give them, but each string cut to its first {@link SKELETON_LIMITS}
 * `stringChars` characters and nothing kept past `weight` in all. An event of a megabyte of text is
 * metered from its skeleton without the text ever being held whole: what billing reads (usage numbers,
 * event types, whether content is empty) survives the cut. Malformed text yields undefined, as
 * `tryParseJson` does.
 */

/** What a skeleton keeps. */
export const SKELETON_LIMITS = {
  /** Raw characters kept of one string (escapes count as written); a longer one keeps its beginning. */
  stringChars: 1024,
  /** Values plus string characters kept in all; values past it are read and checked, not kept. */
  weight: 64 * 1024,
  /** Deeper nesting is refused as malformed, so the stack of open containers stays bounded. */
  depth: 512,
} as const;

import { isDigit, JsonString, NUMBER_ACCEPTS, NUMBER_CHARS, numberStep } from './json-tokens.ts';

type Expect = 'value' | 'valueOrClose' | 'keyOrClose' | 'key' | 'colon' | 'commaOrClose' | 'done' | 'error';

interface Frame {
  array: boolean;
  /** Undefined when not kept: its members are read, not kept. */
  target: unknown[] | Record<string, unknown> | undefined;
  key: string | undefined;
}

/** Sets a member as JSON.parse does: `__proto__` becomes an own property, not the prototype. */
function define(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  else target[key] = value;
}

/** One JSON text, fed in pieces; see the module comment. */
export class JsonSkeleton {
  private expect: Expect = 'value';
  private readonly stack: Frame[] = [];
  private root: unknown;
  private weight = 0;
  private token: 'none' | 'string' | 'number' | 'literal' = 'none';
  private readonly str = new JsonString(SKELETON_LIMITS.stringChars);
  private strIsKey = false;
  private numberText = '';
  private numberLong = false;
  private numberState = 0;
  private literal = '';
  private literalAt = 0;

  /** Values and characters kept so far (bounded by {@link SKELETON_LIMITS}). */
  get kept(): number {
    return this.weight;
  }

  /** Reads the next piece of the text. */
  feed(text: string): void {
    let i = 0;
    while (i < text.length && this.expect !== 'error') {
      if (this.token === 'string') {
        const at = this.str.read(text, i);
        if (at === -1) this.fail();
        else if (this.str.closed) this.endString();
        i = at === -1 ? text.length : at;
        continue;
      }
      const c = text.charCodeAt(i);
      if (this.token === 'number') {
        const next = numberStep(this.numberState, c);
        if (next !== -1) {
          this.numberState = next;
          if (this.numberText.length < NUMBER_CHARS) this.numberText += text[i];
          else this.numberLong = true;
          i++;
          continue;
        }
        // Anything else ends the number and is read as what follows it.
        this.endNumber();
        if (this.failed()) return;
      }
      if (this.token === 'literal') {
        this.literalChar(text[i] ?? '');
        i++;
        continue;
      }
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) this.structural(c);
      i++;
    }
  }

  /** The value, when everything fed is one whole JSON text; undefined when it is malformed or incomplete. */
  end(): unknown {
    if (this.token === 'number') this.endNumber();
    return this.expect === 'done' ? this.root : undefined;
  }

  /**
   * What was read of a text that stopped short (the stream was cut): open containers as they stand and a
   * string being read as its beginning; a number being read is left out, its digits may be incomplete.
   */
  partial(): unknown {
    if (this.token === 'string' && !this.strIsKey && this.str.rawChars > 0) {
      this.keep(this.str.decoded(), 1 + this.str.rawChars);
      this.token = 'none';
    }
    return this.root;
  }

  private fail(): void {
    this.expect = 'error';
  }

  private failed(): boolean {
    return this.expect === 'error';
  }

  /** Attaches a value to the open container (or makes it the root) when there is room; true if kept. */
  private keep(value: unknown, weight: number): boolean {
    const top = this.stack.at(-1);
    if (top === undefined) {
      this.root = value;
      this.weight += weight;
      return true;
    }
    const target = top.target;
    if (target === undefined) return false;
    const cost = weight + (Array.isArray(target) ? 0 : (top.key ?? '').length);
    if (this.weight + cost > SKELETON_LIMITS.weight) return false;
    this.weight += cost;
    if (Array.isArray(target)) target.push(value);
    else if (top.key !== undefined) define(target, top.key, value);
    return true;
  }

  private afterValue(): void {
    this.expect = this.stack.length === 0 ? 'done' : 'commaOrClose';
  }

  private structural(c: number): void {
    const top = this.stack.at(-1);
    switch (this.expect) {
      case 'value':
      case 'valueOrClose':
        if (c === 0x5d && this.expect === 'valueOrClose') {
          this.close();
          return;
        }
        this.startValue(c);
        return;
      case 'keyOrClose':
        if (c === 0x7d) {
          this.close();
          return;
        }
        if (c === 0x22) this.startString(true);
        else this.fail();
        return;
      case 'key':
        if (c === 0x22) this.startString(true);
        else this.fail();
        return;
      case 'colon':
        if (c !== 0x3a) {
          this.fail();
          return;
        }
        this.expect = 'value';
        return;
      case 'commaOrClose':
        if (c === 0x2c) {
          this.expect = top?.array === true ? 'value' : 'key';
          return;
        }
        if ((c === 0x5d && top?.array === true) || (c === 0x7d && top?.array === false)) {
          this.close();
          return;
        }
        this.fail();
        return;
      default:
        this.fail();
        return;
    }
  }

  private startValue(c: number): void {
    if (c === 0x7b || c === 0x5b) {
      this.open(c === 0x5b);
      return;
    }
    if (c === 0x22) {
      this.startString(false);
      return;
    }
    if (c === 0x2d || isDigit(c)) {
      this.token = 'number';
      this.numberState = c === 0x2d ? 0 : c === 0x30 ? 1 : 2;
      this.numberText = String.fromCharCode(c);
      this.numberLong = false;
      return;
    }
    const word = c === 0x74 ? 'true' : c === 0x66 ? 'false' : c === 0x6e ? 'null' : '';
    if (word === '') {
      this.fail();
      return;
    }
    this.token = 'literal';
    this.literal = word;
    this.literalAt = 1;
  }

  private open(array: boolean): void {
    if (this.stack.length >= SKELETON_LIMITS.depth) {
      this.fail();
      return;
    }
    const container = array ? [] : {};
    const kept = this.keep(container, 1);
    this.stack.push({ array, target: kept ? container : undefined, key: undefined });
    this.expect = array ? 'valueOrClose' : 'keyOrClose';
  }

  private close(): void {
    this.stack.pop();
    this.afterValue();
  }

  private literalChar(ch: string): void {
    if (ch !== this.literal[this.literalAt]) {
      this.fail();
      return;
    }
    this.literalAt++;
    if (this.literalAt < this.literal.length) return;
    this.token = 'none';
    this.keep(this.literal === 'true' ? true : this.literal === 'false' ? false : null, 1);
    this.afterValue();
  }

  private endNumber(): void {
    this.token = 'none';
    if (!NUMBER_ACCEPTS.has(this.numberState)) {
      this.fail();
      return;
    }
    this.keep(this.numberLong ? Number.NaN : Number(this.numberText), 1);
    this.afterValue();
  }

  private startString(key: boolean): void {
    const top = this.stack.at(-1);
    this.token = 'string';
    this.strIsKey = key;
    this.str.start(top === undefined || top.target !== undefined);
  }

  private endString(): void {
    this.token = 'none';
    const top = this.stack.at(-1);
    if (this.strIsKey) {
      if (top !== undefined) top.key = top.target === undefined ? undefined : this.str.decoded();
      this.expect = 'colon';
      return;
    }
    if (top === undefined || top.target !== undefined) this.keep(this.str.decoded(), 1 + this.str.rawChars);
    this.afterValue();
  }
}
