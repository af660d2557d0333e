import { badJson } from './json-codec';

/** Go's quoteChar for error texts. */
function quoteChar(c: string): string {
  if (c === "'") return "'\\''";
  if (c === '"') return `'"'`;
  const quoted = JSON.stringify(c);
  return `'${quoted.slice(1, -1)}'`;
}

class GoJsonError extends Error {}

/**
 * Finds where the first JSON value of `text` ends, failing with Go's encoding/json scanner
 * texts. Like the gateway's json.Decoder, what follows the first value is not read.
 */
function scanFirstValue(text: string): number {
  let i = 0;
  const eof = (): never => {
    throw new GoJsonError('unexpected EOF');
  };
  const bad = (context: string): never => {
    throw new GoJsonError(`invalid character ${quoteChar(text[i]!)} ${context}`);
  };
  const ws = (): void => {
    while (i < text.length && ' \t\r\n'.includes(text[i]!)) i++;
  };
  const literal = (word: string): void => {
    for (let k = 0; k < word.length; k++, i++) {
      if (i >= text.length) eof();
      if (text[i] !== word[k]) bad(`in literal ${word} (expecting ${quoteChar(word[k]!)})`);
    }
  };
  const string = (): void => {
    i++; // opening quote
    for (;;) {
      if (i >= text.length) eof();
      const c = text[i]!;
      if (c === '"') {
        i++;
        return;
      }
      if (c < ' ') bad('in string literal');
      if (c === '\\') {
        i++;
        if (i >= text.length) eof();
        const e = text[i]!;
        if (e === 'u') {
          for (let k = 0; k < 4; k++) {
            i++;
            if (i >= text.length) eof();
            if (!/[0-9a-fA-F]/.test(text[i]!)) bad('in \\u hexadecimal character escape');
          }
        } else if (!'"\\/bfnrt'.includes(e)) bad('in string escape code');
      }
      i++;
    }
  };
  const number = (): void => {
    if (text[i] === '-') {
      i++;
      if (i >= text.length) eof();
      if (!/[0-9]/.test(text[i]!)) bad('in numeric literal');
    }
    if (text[i] === '0') i++;
    else while (i < text.length && /[0-9]/.test(text[i]!)) i++;
    if (text[i] === '.') {
      i++;
      if (i >= text.length) eof();
      if (!/[0-9]/.test(text[i]!)) bad('after decimal point in numeric literal');
      while (i < text.length && /[0-9]/.test(text[i]!)) i++;
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++;
      if (text[i] === '+' || text[i] === '-') i++;
      if (i >= text.length) eof();
      if (!/[0-9]/.test(text[i]!)) bad('in exponent of numeric literal');
      while (i < text.length && /[0-9]/.test(text[i]!)) i++;
    }
  };
  const value = (depth: number): void => {
    if (depth > 10000) throw new GoJsonError('exceeded max depth');
    ws();
    if (i >= text.length) eof();
    const c = text[i]!;
    if (c === '{') {
      i++;
      ws();
      if (i >= text.length) eof();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (i >= text.length) eof();
        if (text[i] !== '"') bad('looking for beginning of object key string');
        string();
        ws();
        if (i >= text.length) eof();
        if (text[i] !== ':') bad('after object key');
        i++;
        value(depth + 1);
        ws();
        if (i >= text.length) eof();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        bad('after object key:value pair');
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (i >= text.length) eof();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value(depth + 1);
        ws();
        if (i >= text.length) eof();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        bad('after array element');
      }
    }
    if (c === '"') return string();
    if (c === 't') return literal('true');
    if (c === 'f') return literal('false');
    if (c === 'n') return literal('null');
    if (c === '-' || (c >= '0' && c <= '9')) return number();
    bad('looking for beginning of value');
  };
  value(0);
  return i;
}

/**
 * Parses the first JSON value of a request body as the gateway's json.Decoder does, with
 * Go's error texts (clients and the differential tests compare them).
 */
export function parseGoJson(text: string): unknown {
  let end: number;
  try {
    end = scanFirstValue(text);
  } catch (err) {
    if (err instanceof GoJsonError) throw badJson(err.message);
    throw err;
  }
  return JSON.parse(text.slice(0, end));
}

/**
 * Splits a request body carrying several JSON values one after another (a streaming
 * request: one message per value), as Go's json.Decoder reads them. Bounded: a value
 * larger than `maxValueBytes` is an error.
 */
export class JsonValueSplitter {
  private buffer = '';
  private depth = 0;
  private inString = false;
  private escaped = false;
  private scanned = 0;

  constructor(private readonly maxValueBytes: number) {}

  /** Feeds text; returns the complete values it closed, as text. */
  push(chunk: string): string[] {
    this.buffer += chunk;
    const values: string[] = [];
    let start = 0;
    for (let i = this.scanned; i < this.buffer.length; i++) {
      const c = this.buffer[i]!;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === '\\') this.escaped = true;
        else if (c === '"') this.inString = false;
        continue;
      }
      if (c === '"') this.inString = true;
      else if (c === '{' || c === '[') this.depth++;
      else if (c === '}' || c === ']') {
        this.depth--;
        if (this.depth === 0) {
          values.push(this.buffer.slice(start, i + 1));
          start = i + 1;
        }
      }
    }
    this.buffer = this.buffer.slice(start);
    this.scanned = this.buffer.length;
    if (this.buffer.length > this.maxValueBytes) throw badJson('request body value too large');
    return values.filter((v) => v.trim().length > 0);
  }

  /** Text left after the last complete value (a scalar or a truncated value). */
  rest(): string {
    return this.buffer;
  }
}
