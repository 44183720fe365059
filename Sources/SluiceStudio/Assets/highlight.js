// A small syntax highlighter for JavaScript and Python: one pass of a sticky regular expression
// per language, giving tokens (comment, string, number, keyword, builtin, function, decorator,
// plain). It is not a parser: it colours what a reader needs and never changes the text. Studio
// ships its own (no CDN, no npm, no Debian package the page would need at run time).

const JS_KEYWORDS = new Set(("await break case catch class const continue debugger default delete do else export extends " +
  "finally for function if import in instanceof let new of return static super switch this throw try typeof var void " +
  "while with yield async").split(" "));
const JS_BUILTINS = new Set(("true false null undefined NaN Infinity Object Array String Number Boolean Math JSON Date " +
  "Promise Map Set RegExp Error TypeError console log fetch fetchV2 getCredential geolocation").split(" "));
const PY_KEYWORDS = new Set(("and as assert async await break class continue def del elif else except finally for from " +
  "global if import in is lambda nonlocal not or pass raise return try while with yield match case").split(" "));
const PY_BUILTINS = new Set(("True False None self len str int float dict list set tuple bool print range enumerate zip " +
  "isinstance getattr hasattr sorted min max sum any all log fetch get_credential json").split(" "));

const JS_PATTERN = new RegExp([
  String.raw`(?<comment>\/\/[^\n]*|\/\*[\s\S]*?(?:\*\/|$))`,
  String.raw`(?<string>"(?:[^"\\\n]|\\.)*"?|'(?:[^'\\\n]|\\.)*'?|` + "`(?:[^`\\\\]|\\\\[\\s\\S])*`?)",
  String.raw`(?<number>\b(?:0[xX][0-9a-fA-F_]+|\d[\d_]*(?:\.\d+)?(?:[eE][+-]?\d+)?n?)\b)`,
  String.raw`(?<word>[A-Za-z_$][\w$]*)`,
  String.raw`(?<space>\s+)`,
  String.raw`(?<other>[\s\S])`,
].join("|"), "y");

const PY_PATTERN = new RegExp([
  String.raw`(?<comment>#[^\n]*)`,
  String.raw`(?<string>[rRbBfFuU]{0,2}(?:"""[\s\S]*?(?:"""|$)|'''[\s\S]*?(?:'''|$)|"(?:[^"\\\n]|\\.)*"?|'(?:[^'\\\n]|\\.)*'?))`,
  String.raw`(?<decorator>@[A-Za-z_][\w.]*)`,
  String.raw`(?<number>\b(?:0[xX][0-9a-fA-F_]+|\d[\d_]*(?:\.\d+)?(?:[eE][+-]?\d+)?j?)\b)`,
  String.raw`(?<word>[A-Za-z_][\w]*)`,
  String.raw`(?<space>\s+)`,
  String.raw`(?<other>[\s\S])`,
].join("|"), "y");

/** Tokens of `code`: [{type, text}], whose texts joined are exactly `code`. */
export function tokenize(code, language) {
  const python = language === "python" || language === "pythonfaas";
  const pattern = python ? PY_PATTERN : JS_PATTERN;
  const keywords = python ? PY_KEYWORDS : JS_KEYWORDS;
  const builtins = python ? PY_BUILTINS : JS_BUILTINS;
  const tokens = [];
  pattern.lastIndex = 0;
  let previousWord = "";
  while (pattern.lastIndex < code.length) {
    const match = pattern.exec(code);
    if (!match) break;
    const groups = match.groups;
    const text = match[0];
    let type = "plain";
    if (groups.comment !== undefined) type = "comment";
    else if (groups.string !== undefined) type = "string";
    else if (groups.decorator !== undefined) type = "decorator";
    else if (groups.number !== undefined) type = "number";
    else if (groups.word !== undefined) {
      if (keywords.has(text)) type = "keyword";
      else if (previousWord === "def" || previousWord === "function" || previousWord === "class") type = "function";
      else if (builtins.has(text)) type = "builtin";
      else if (code[pattern.lastIndex] === "(") type = "function";
      previousWord = text;
    } else if (groups.other !== undefined) {
      previousWord = "";
    }
    tokens.push({ type, text });
  }
  return tokens;
}

function escape(text) {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** The highlighted HTML of `code`, one `<span class="line">` per line (tokens that span lines are
 *  split at each line break), so a line can be marked. */
export function highlightLines(code, language) {
  const lines = [[]];
  for (const token of tokenize(code, language)) {
    const pieces = token.text.split("\n");
    pieces.forEach((piece, index) => {
      if (index > 0) lines.push([]);
      if (piece.length === 0) return;
      const html = escape(piece);
      lines[lines.length - 1].push(token.type === "plain" ? html : `<span class="tok-${token.type}">${html}</span>`);
    });
  }
  return lines.map((parts) => parts.join(""));
}
