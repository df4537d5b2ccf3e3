/**
 * Test helper: a non-recursive GBNF grammar as an anchored JavaScript RegExp
 * (rules inlined), so a unit test can ask "does the grammar accept this text?"
 * without a model. Handles what src/structured-output emits: literals, classes
 * (with \x, \u, \U escapes), groups, alternation, `? * +` and `{m}`, `{m,}`, `{m,n}`.
 */
export function gbnfToRegExp(gbnf: string): RegExp {
  const rules = new Map<string, string>();
  for (const line of gbnf.split("\n")) {
    const m = /^([A-Za-z0-9-]+) ::= (.*)$/.exec(line);
    if (m) rules.set(m[1]!, m[2]!);
  }
  const expanding = new Set<string>();
  const expand = (name: string): string => {
    const body = rules.get(name);
    if (body === undefined) throw new Error(`undefined rule ${name}`);
    if (expanding.has(name)) throw new Error(`recursive rule ${name}`);
    expanding.add(name);
    const out = translate(body, expand);
    expanding.delete(name);
    return out;
  };
  return new RegExp(`^(?:${expand("root")})$`, "u");
}

function translate(body: string, expand: (name: string) => string): string {
  let out = "";
  let i = 0;
  while (i < body.length) {
    const c = body[i]!;
    if (c === " ") {
      i++;
    } else if (c === '"') {
      let j = i + 1;
      let text = "";
      while (body[j] !== '"') {
        if (body[j] === "\\") {
          const [ch, len] = unescape(body, j);
          text += ch;
          j += len;
        } else text += body[j++];
      }
      out += `(?:${text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")})`;
      i = j + 1;
    } else if (c === "[") {
      let j = i + 1;
      let cls = "[";
      if (body[j] === "^") {
        cls += "^";
        j++;
      }
      while (body[j] !== "]") {
        if (body[j] === "\\") {
          const [ch, len] = unescape(body, j);
          cls += `\\u{${ch.codePointAt(0)!.toString(16)}}`;
          j += len;
        } else if (body[j] === "-") {
          cls += "-";
          j++;
        } else {
          cls += `\\u{${body.codePointAt(j)!.toString(16)}}`;
          j += body.codePointAt(j)! > 0xffff ? 2 : 1;
        }
      }
      out += `${cls}]`;
      i = j + 1;
    } else if (c === "(") {
      out += "(?:";
      i++;
    } else if ("|)?*+".includes(c)) {
      out += c;
      i++;
    } else if (c === "{") {
      const j = body.indexOf("}", i);
      out += body.slice(i, j + 1);
      i = j + 1;
    } else {
      const m = /^[A-Za-z0-9-]+/.exec(body.slice(i))!;
      out += `(?:${expand(m[0])})`;
      i += m[0].length;
    }
  }
  return out;
}

function unescape(s: string, at: number): [string, number] {
  const e = s[at + 1]!;
  const simple: Record<string, string> = { n: "\n", r: "\r", t: "\t", "\\": "\\", '"': '"', "]": "]", "-": "-", "[": "[", "/": "/" };
  if (e in simple) return [simple[e]!, 2];
  if (e === "x") return [String.fromCodePoint(parseInt(s.slice(at + 2, at + 4), 16)), 4];
  if (e === "u") return [String.fromCodePoint(parseInt(s.slice(at + 2, at + 6), 16)), 6];
  if (e === "U") return [String.fromCodePoint(parseInt(s.slice(at + 2, at + 10), 16)), 10];
  return [e, 2];
}
