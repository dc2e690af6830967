// Parser for the small regular-expression dialect used by libphonenumber metadata, and
// a compiler from it to acyclic deterministic automata over the digits 0-9.
//
// Supported syntax (all that the metadata uses): digits, `\d`, `[...]` classes of digits and
// ranges, `(?:...)` groups, `(...)` capturing groups, `|`, `?`, `{n}`, `{n,m}`, `$` (end anchor,
// only in national-prefix-for-parsing patterns). Anything else throws, so a metadata update
// that needs more is noticed at generation time.

const ALL = 0x3ff;

export function parseRegex(src) {
  let i = 0;
  let groups = 0;
  function peek() {
    return src[i];
  }
  function fail(msg) {
    throw new Error(`regex ${JSON.stringify(src)} at ${i}: ${msg}`);
  }
  function parseAlt() {
    const alts = [parseSeq()];
    while (peek() === "|") {
      i++;
      alts.push(parseSeq());
    }
    return alts.length === 1 ? alts[0] : { t: "alt", alts };
  }
  function parseSeq() {
    const items = [];
    while (i < src.length && peek() !== "|" && peek() !== ")") {
      let atom = parseAtom();
      for (;;) {
        const c = peek();
        if (c === "?") {
          i++;
          atom = { t: "rep", node: atom, min: 0, max: 1 };
        } else if (c === "{") {
          const m = /^\{(\d+)(?:(,)(\d*))?\}/.exec(src.slice(i));
          if (!m) fail("bad {");
          i += m[0].length;
          const min = +m[1];
          const max = m[2] ? (m[3] === "" ? fail("unbounded {n,}") : +m[3]) : min;
          atom = { t: "rep", node: atom, min, max };
        } else if (c === "*" || c === "+") fail("unbounded repetition");
        else break;
      }
      items.push(atom);
    }
    return items.length === 1 ? items[0] : { t: "seq", items };
  }
  function parseAtom() {
    const c = src[i];
    if (c >= "0" && c <= "9") {
      i++;
      return { t: "cls", mask: 1 << +c };
    }
    if (c === "\\") {
      if (src[i + 1] === "d") {
        i += 2;
        return { t: "cls", mask: ALL };
      }
      fail("unknown escape");
    }
    if (c === "[") {
      i++;
      let mask = 0;
      let neg = false;
      if (peek() === "^") {
        neg = true;
        i++;
      }
      while (peek() !== "]") {
        if (i >= src.length) fail("unterminated class");
        const a = src[i];
        if (a === "\\" && src[i + 1] === "d") {
          mask |= ALL;
          i += 2;
          continue;
        }
        if (!(a >= "0" && a <= "9")) fail("non-digit in class");
        i++;
        if (peek() === "-" && src[i + 1] !== "]") {
          i++;
          const b = src[i++];
          if (!(b >= "0" && b <= "9")) fail("bad range");
          for (let d = +a; d <= +b; d++) mask |= 1 << d;
        } else mask |= 1 << +a;
      }
      i++;
      return { t: "cls", mask: neg ? ALL & ~mask : mask };
    }
    if (c === "(") {
      i++;
      let cap = 0;
      if (src.startsWith("?:", i)) i += 2;
      else cap = ++groups;
      const node = parseAlt();
      if (peek() !== ")") fail("expected )");
      i++;
      return cap ? { t: "cap", n: cap, node } : node;
    }
    if (c === "$") {
      i++;
      return { t: "end" };
    }
    fail(`unexpected ${JSON.stringify(c)}`);
  }
  const ast = parseAlt();
  if (i !== src.length) fail("trailing input");
  return ast;
}

// ---------------------------------------------------------------------------------------------
// Thompson NFA with epsilon moves (no anchors, no captures: used for whole-string languages).

function buildNfa(ast) {
  const eps = []; // eps[s] = [targets]
  const edges = []; // edges[s] = [[mask, target]]
  function state() {
    eps.push([]);
    edges.push([]);
    return eps.length - 1;
  }
  // returns [start, end]
  function go(n) {
    switch (n.t) {
      case "cls": {
        const a = state(),
          b = state();
        edges[a].push([n.mask, b]);
        return [a, b];
      }
      case "seq": {
        const a = state();
        let cur = a;
        for (const it of n.items) {
          const [s, e] = go(it);
          eps[cur].push(s);
          cur = e;
        }
        return [a, cur];
      }
      case "alt": {
        const a = state(),
          b = state();
        for (const x of n.alts) {
          const [s, e] = go(x);
          eps[a].push(s);
          eps[e].push(b);
        }
        return [a, b];
      }
      case "rep": {
        const a = state();
        let cur = a;
        const ends = [];
        for (let k = 0; k < n.max; k++) {
          if (k >= n.min) ends.push(cur);
          const [s, e] = go(n.node);
          eps[cur].push(s);
          cur = e;
        }
        ends.push(cur);
        const b = state();
        for (const e of ends) eps[e].push(b);
        return [a, b];
      }
      case "cap":
        return go(n.node);
      default:
        throw new Error("unsupported node in whole-string pattern: " + n.t);
    }
  }
  const [start, end] = go(ast);
  return { eps, edges, start, end };
}

function closure(nfa, set) {
  const out = new Set(set);
  const stack = [...set];
  while (stack.length) {
    const s = stack.pop();
    for (const t of nfa.eps[s])
      if (!out.has(t)) {
        out.add(t);
        stack.push(t);
      }
  }
  return [...out].sort((a, b) => a - b);
}

// ---------------------------------------------------------------------------------------------
// A pool of hash-consed acyclic DFA states. State 0 is the dead state. A state is
// { acc: boolean, next: number[10] }. Equal right-languages get equal ids, so the pool is the
// minimal automaton for every language put in it, and sub-automata are shared across languages.

export class Pool {
  constructor() {
    this.states = [{ acc: false, next: new Array(10).fill(0) }];
    this.index = new Map([[key(false, new Array(10).fill(0)), 0]]);
    this.memo = new Map();
  }
  make(acc, next) {
    if (!acc && next.every((x) => x === 0)) return 0;
    const k = key(acc, next);
    let id = this.index.get(k);
    if (id === undefined) {
      id = this.states.length;
      this.states.push({ acc, next: next.slice() });
      this.index.set(k, id);
    }
    return id;
  }
  fromRegex(src) {
    const nfa = buildNfa(parseRegex(src));
    const memo = new Map();
    const build = (set, depth) => {
      if (depth > 40) throw new Error("pattern too long: " + src);
      const k = set.join(",");
      if (memo.has(k)) return memo.get(k);
      const next = [];
      for (let d = 0; d < 10; d++) {
        const moved = [];
        for (const s of set) for (const [m, t] of nfa.edges[s]) if (m & (1 << d)) moved.push(t);
        next.push(moved.length ? build(closure(nfa, moved), depth + 1) : 0);
      }
      const id = this.make(set.includes(nfa.end), next);
      memo.set(k, id);
      return id;
    };
    return build(closure(nfa, [nfa.start]), 0);
  }
  op(name, a, b, fn) {
    const k = name + ":" + a + ":" + b;
    if (this.memo.has(k)) return this.memo.get(k);
    const r = fn();
    this.memo.set(k, r);
    return r;
  }
  and(a, b) {
    if (a === 0 || b === 0) return 0;
    if (a === b) return a;
    if (a > b) [a, b] = [b, a];
    return this.op("and", a, b, () => {
      const A = this.states[a],
        B = this.states[b];
      return this.make(
        A.acc && B.acc,
        A.next.map((x, d) => this.and(x, B.next[d])),
      );
    });
  }
  or(a, b) {
    if (a === 0) return b;
    if (b === 0 || a === b) return a;
    if (a > b) [a, b] = [b, a];
    return this.op("or", a, b, () => {
      const A = this.states[a],
        B = this.states[b];
      return this.make(
        A.acc || B.acc,
        A.next.map((x, d) => this.or(x, B.next[d])),
      );
    });
  }
  // keep only the words whose length is in `lengths` (a bit set), `depth` = length so far
  lengths(a, mask, depth = 0) {
    if (a === 0) return 0;
    return this.op("len" + depth, a, mask, () => {
      const A = this.states[a];
      return this.make(
        A.acc && ((mask >> depth) & 1) === 1,
        A.next.map((x) => this.lengths(x, mask, depth + 1)),
      );
    });
  }
  // the state accepting every digit string whose length is in `mask` (bit n: length n)
  universal(mask) {
    if (mask === 0) return 0;
    const child = this.universal(Math.floor(mask / 2));
    return this.make((mask & 1) === 1, new Array(10).fill(child));
  }
  // all states reachable from the given roots
  reachable(roots) {
    const seen = new Set();
    const stack = [...roots];
    while (stack.length) {
      const s = stack.pop();
      if (s === 0 || seen.has(s)) continue;
      seen.add(s);
      for (const t of this.states[s].next) stack.push(t);
    }
    return seen;
  }
  matches(a, str) {
    for (const ch of str) {
      a = this.states[a].next[+ch];
      if (a === 0) return false;
    }
    return this.states[a].acc;
  }
}

function key(acc, next) {
  return (acc ? "1" : "0") + next.join(",");
}

// ---------------------------------------------------------------------------------------------
// Priority expansion for prefix patterns (national prefix for parsing, international prefix).
// JavaScript's backtracking matcher returns, among the alternatives that succeed, the first one
// in priority order (alternation left to right, greedy repetition longest first). For the
// finite patterns of the metadata we expand the pattern into that ordered list of "paths":
// a path is a sequence of digit classes, optionally required to end the input (`$`), and the
// spans of the capturing groups inside it.

export function expandPaths(src, limit = 5000) {
  const ast = parseRegex(src);
  // a partial path: { classes: [], end: bool, caps: {n: [start, end]} }
  function go(n, paths) {
    // paths: list of partial paths; returns the extended list in priority order
    switch (n.t) {
      case "cls":
        return paths.filter((p) => !p.end).map((p) => ({ ...p, classes: [...p.classes, n.mask] }));
      case "end":
        return paths.map((p) => ({ ...p, end: true }));
      case "seq": {
        let ps = paths;
        for (const it of n.items) ps = go(it, ps);
        return ps;
      }
      case "alt": {
        // priority: for each incoming path, alternatives in order
        const out = [];
        for (const p of paths) for (const a of n.alts) out.push(...go(a, [p]));
        return out;
      }
      case "rep": {
        // greedy: one more iteration (with all its alternatives) is tried before stopping
        const rep = (p, min, max) => {
          const out = [];
          if (max > 0) for (const q of go(n.node, [p])) out.push(...rep(q, Math.max(min - 1, 0), max - 1));
          if (min === 0) out.push(p);
          return out;
        };
        const out = [];
        for (const p of paths) out.push(...rep(p, n.min, n.max));
        return out;
      }
      case "cap": {
        const out = [];
        for (const p of paths) {
          const start = p.classes.length;
          for (const q of go(n.node, [p])) out.push({ ...q, caps: { ...q.caps, [n.n]: [start, q.classes.length] } });
        }
        return out;
      }
      default:
        throw new Error("bad node");
    }
  }
  const res = go(ast, [{ classes: [], end: false, caps: {} }]);
  if (res.length > limit) throw new Error("too many paths: " + src);
  return res;
}
