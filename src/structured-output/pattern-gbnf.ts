/**
 * A practical subset of ECMAScript regular expressions (JSON schema `pattern`)
 * as GBNF for the inside of a JSON string. Supported: literals and escaped
 * metacharacters, `.`, `\d \w \s` (and `\D \W \S`), character classes with
 * ranges and negation, groups (`(…)`, `(?:…)`, `(?<name>…)`), alternation and
 * the quantifiers `* + ? {n} {n,} {n,m}` (lazy forms too), `^` at the start
 * and `$` at the end. Lookarounds, backreferences, word boundaries and
 * Unicode property escapes are not: {@link patternGbnf} returns undefined and
 * the pattern is checked after generation instead.
 *
 * The grammar may generate a subset of what the pattern matches, never more:
 * characters JSON would have to escape (`"`, `\`, controls) are left out of
 * classes and `.`, `\s` is a space, and an unanchored pattern is generated as
 * if anchored (a string that is exactly a match also contains one).
 */

/** Characters a JSON string carries unescaped: everything but `"`, `\` and controls. */
export const PLAIN_CHAR_CLASS = '[^"\\\\\\x00-\\x1F\\x7F]';

type Range = [number, number];

const DIGIT: Range[] = [[0x30, 0x39]];
const WORD: Range[] = [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]];
/** `\s` generates a space only (a JSON string would have to escape the others). */
const SPACE: Range[] = [[0x20, 0x20]];
/** What JSON cannot carry unescaped; removed from every class. */
const UNSAFE: Range[] = [[0x00, 0x1f], [0x22, 0x22], [0x5c, 0x5c], [0x7f, 0x7f]];

class Unsupported extends Error {}

/**
 * The GBNF (a sequence of terms, no surrounding quotes) for strings matching `pattern`, or undefined when the pattern uses what is not supported.
 *
 * @example
 * ```ts
 * patternGbnf("^[A-Z]{2}-\\d{3}$"); // '[\\u0041-\\u005A]{2} "-" [\\u0030-\\u0039]{3}'
 * patternGbnf("^(?=a)b$");          // undefined (lookahead)
 * ```
 */
export function patternGbnf(pattern: string): string | undefined {
  try {
    return new PatternParser(pattern).parse();
  } catch (err) {
    if (err instanceof Unsupported) return undefined;
    throw err;
  }
}

class PatternParser {
  private i = 0;
  private readonly end: number;

  constructor(private readonly src: string) {
    let start = 0;
    let end = src.length;
    if (src.startsWith("^")) start = 1;
    if (end > start && src.endsWith("$") && !src.endsWith("\\$")) end -= 1;
    this.i = start;
    this.end = end;
  }

  parse(): string {
    const expr = this.alternation();
    if (this.i !== this.end) throw new Unsupported(`unexpected ${this.src[this.i]}`);
    return expr;
  }

  private peek(): string | undefined {
    return this.i < this.end ? this.src[this.i] : undefined;
  }

  private alternation(): string {
    const branches = [this.sequence()];
    while (this.peek() === "|") {
      this.i++;
      branches.push(this.sequence());
    }
    return branches.length === 1 ? branches[0]! : branches.map((b) => (b === "" ? '""' : b)).join(" | ");
  }

  private sequence(): string {
    const terms: string[] = [];
    for (let c = this.peek(); c !== undefined && c !== "|" && c !== ")"; c = this.peek()) {
      const atom = this.atom();
      terms.push(this.quantified(atom));
    }
    return terms.join(" ");
  }

  private quantified(atom: string): string {
    const c = this.peek();
    let suffix: string | undefined;
    if (c === "*" || c === "+" || c === "?") {
      this.i++;
      suffix = c;
    } else if (c === "{") {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.i, this.end));
      if (!m) throw new Unsupported("a literal '{'");
      this.i += m[0].length;
      const min = Number(m[1]);
      const max = m[2] === undefined ? min : m[3] === "" ? undefined : Number(m[3]);
      if (max !== undefined && max < min) throw new Unsupported("an empty repetition");
      suffix = max === min ? `{${min}}` : `{${min},${max ?? ""}}`;
    }
    if (suffix === undefined) return atom;
    if (this.peek() === "?") this.i++; // lazy: same language
    if (this.peek() === "*" || this.peek() === "+" || this.peek() === "{") throw new Unsupported("a nested quantifier");
    return `${wrap(atom)}${suffix}`;
  }

  private atom(): string {
    const c = this.src[this.i]!;
    this.i++;
    switch (c) {
      case ".":
        return PLAIN_CHAR_CLASS;
      case "(":
        return this.group();
      case "[":
        return this.charClass();
      case "\\":
        return this.escape();
      case "^":
      case "$":
        throw new Unsupported("an anchor inside the pattern");
      case "*":
      case "+":
      case "?":
      case "{":
        throw new Unsupported("a quantifier with nothing before it");
      default:
        return literal(this.src.codePointAt(this.i - 1)!, this);
    }
  }

  /** Advances past the rest of a surrogate pair when the literal was one. */
  skipLowSurrogate(cp: number): void {
    if (cp > 0xffff) this.i++;
  }

  private group(): string {
    if (this.src[this.i] === "?") {
      const rest = this.src.slice(this.i, this.i + 3);
      if (rest.startsWith("?:")) this.i += 2;
      else if (rest.startsWith("?<") && rest !== "?<=" && rest !== "?<!") {
        const close = this.src.indexOf(">", this.i);
        if (close < 0) throw new Unsupported("an unterminated group name");
        this.i = close + 1;
      } else throw new Unsupported("a lookaround");
    }
    const inner = this.alternation();
    if (this.src[this.i] !== ")") throw new Unsupported("an unbalanced group");
    this.i++;
    return `(${inner === "" ? '""' : inner})`;
  }

  private escape(): string {
    const c = this.src[this.i];
    if (c === undefined || this.i >= this.end) throw new Unsupported("a trailing backslash");
    this.i++;
    const set = classEscape(c);
    if (set) return classGbnf(set.ranges, set.negated);
    const cp = this.escapedCodePoint(c);
    return literalGbnf(cp);
  }

  /** The code point of an escape that stands for one character (after the backslash and `c`). */
  escapedCodePoint(c: string): number {
    switch (c) {
      case "n":
        return 0x0a;
      case "t":
        return 0x09;
      case "r":
        return 0x0d;
      case "f":
        return 0x0c;
      case "v":
        return 0x0b;
      case "0":
        return 0;
      case "x":
        return this.hex(2);
      case "u":
        if (this.src[this.i] === "{") {
          const close = this.src.indexOf("}", this.i);
          const cp = parseInt(this.src.slice(this.i + 1, close), 16);
          if (close < 0 || Number.isNaN(cp)) throw new Unsupported("a bad \\u{…} escape");
          this.i = close + 1;
          return cp;
        }
        return this.hex(4);
      default:
        // Letters and digits escape to something special (\b, \1, \p, \k…); punctuation is itself.
        if (/[A-Za-z0-9]/.test(c)) throw new Unsupported(`the escape \\${c}`);
        return c.codePointAt(0)!;
    }
  }

  private hex(n: number): number {
    const digits = this.src.slice(this.i, this.i + n);
    if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(digits)) throw new Unsupported("a bad hex escape");
    this.i += n;
    return parseInt(digits, 16);
  }

  private charClass(): string {
    let negated = false;
    if (this.src[this.i] === "^") {
      negated = true;
      this.i++;
    }
    const ranges: Range[] = [];
    while (this.i < this.end && this.src[this.i] !== "]") {
      const start = this.classMember();
      if (start.set) {
        if (start.set.negated) throw new Unsupported("a negated escape inside a class");
        ranges.push(...start.set.ranges);
        continue;
      }
      if (this.src[this.i] === "-" && this.src[this.i + 1] !== "]" && this.i + 1 < this.end) {
        this.i++;
        const stop = this.classMember();
        if (stop.set || stop.cp! < start.cp!) throw new Unsupported("a bad class range");
        ranges.push([start.cp!, stop.cp!]);
      } else ranges.push([start.cp!, start.cp!]);
    }
    if (this.src[this.i] !== "]") throw new Unsupported("an unterminated class");
    this.i++;
    return classGbnf(ranges, negated);
  }

  private classMember(): { cp?: number; set?: { ranges: Range[]; negated: boolean } } {
    const c = this.src[this.i]!;
    this.i++;
    if (c === "[") throw new Unsupported("a nested class");
    if (c !== "\\") {
      const cp = this.src.codePointAt(this.i - 1)!;
      this.skipLowSurrogate(cp);
      return { cp };
    }
    const e = this.src[this.i];
    if (e === undefined) throw new Unsupported("a trailing backslash");
    this.i++;
    const set = classEscape(e);
    if (set) return { set };
    if (e === "b") return { cp: 0x08 };
    return { cp: this.escapedCodePoint(e) };
  }
}

function classEscape(c: string): { ranges: Range[]; negated: boolean } | undefined {
  switch (c) {
    case "d":
      return { ranges: DIGIT, negated: false };
    case "w":
      return { ranges: WORD, negated: false };
    case "s":
      return { ranges: SPACE, negated: false };
    case "D":
      return { ranges: DIGIT, negated: true };
    case "W":
      return { ranges: WORD, negated: true };
    case "S":
      return { ranges: [[0x09, 0x0d], [0x20, 0x20], [0xa0, 0xa0], [0x2028, 0x2029], [0xfeff, 0xfeff]], negated: true };
    default:
      return undefined;
  }
}

function literal(cp: number, parser: PatternParser): string {
  parser.skipLowSurrogate(cp);
  return literalGbnf(cp);
}

/** One character as the JSON text that carries it. */
function literalGbnf(cp: number): string {
  const json = JSON.stringify(String.fromCodePoint(cp)).slice(1, -1);
  return `"${json.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** A GBNF class from code point ranges, without the characters JSON would escape. */
function classGbnf(ranges: readonly Range[], negated: boolean): string {
  if (negated) return `[^${[...ranges, ...UNSAFE].map(rangeGbnf).join("")}]`;
  const safe = subtract(ranges, UNSAFE);
  if (safe.length === 0) throw new Unsupported("a class of characters JSON escapes");
  return `[${safe.map(rangeGbnf).join("")}]`;
}

function subtract(ranges: readonly Range[], remove: readonly Range[]): Range[] {
  let out: Range[] = ranges.map(([a, b]) => [a, b]);
  for (const [ra, rb] of remove) {
    const next: Range[] = [];
    for (const [a, b] of out) {
      if (rb < a || ra > b) next.push([a, b]);
      else {
        if (a < ra) next.push([a, ra - 1]);
        if (b > rb) next.push([rb + 1, b]);
      }
    }
    out = next;
  }
  return out;
}

function rangeGbnf([a, b]: Range): string {
  return a === b ? codePointGbnf(a) : `${codePointGbnf(a)}-${codePointGbnf(b)}`;
}

function codePointGbnf(cp: number): string {
  return cp > 0xffff ? `\\U${cp.toString(16).toUpperCase().padStart(8, "0")}` : `\\u${cp.toString(16).toUpperCase().padStart(4, "0")}`;
}

/** Parenthesizes a term unless it is already one unit (a literal, a class, a group). */
function wrap(term: string): string {
  if (/^"(?:[^"\\]|\\.)*"$/.test(term) || /^\[(?:[^\]\\]|\\.)*\]$/.test(term)) return term;
  if (term.startsWith("(") && matchingParen(term) === term.length - 1) return term;
  return `(${term})`;
}

function matchingParen(term: string): number {
  let depth = 0;
  let inString = false;
  let inClass = false;
  for (let i = 0; i < term.length; i++) {
    const c = term[i];
    if (c === "\\") {
      i++;
      continue;
    }
    if (inString) {
      if (c === '"') inString = false;
    } else if (inClass) {
      if (c === "]") inClass = false;
    } else if (c === '"') inString = true;
    else if (c === "[") inClass = true;
    else if (c === "(") depth++;
    else if (c === ")" && --depth === 0) return i;
  }
  return -1;
}
