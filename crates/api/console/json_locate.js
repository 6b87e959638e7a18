// Where a JSON pointer is in a JSON text: a small scanner over text that JSON.parse accepted,
// recording the character range of every value (and of each member's key) by pointer, so a
// problem the validator reports at `/sourceSpec/attributes/urlParams` can be selected in the
// editor. A pointer to a member that is missing falls back to its nearest existing parent.

function escapeToken(token) {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Map of pointer → {start, end, keyStart}; '' is the whole document. */
export function locateAll(text) {
  const spans = new Map();
  let at = 0;
  const skip = () => {
    while (at < text.length && /\s/.test(text[at])) at += 1;
  };
  const readString = () => {
    const start = at;
    at += 1;
    while (at < text.length && text[at] !== '"') at += text[at] === '\\' ? 2 : 1;
    at += 1;
    return JSON.parse(text.slice(start, at));
  };
  const value = (pointer, keyStart) => {
    skip();
    const start = at;
    const ch = text[at];
    if (ch === '{') {
      at += 1;
      skip();
      if (text[at] === '}') at += 1;
      else {
        for (;;) {
          skip();
          const memberKeyStart = at;
          const key = readString();
          skip();
          at += 1; // ':'
          value(`${pointer}/${escapeToken(key)}`, memberKeyStart);
          skip();
          const sep = text[at];
          at += 1;
          if (sep !== ',') break;
        }
      }
    } else if (ch === '[') {
      at += 1;
      skip();
      if (text[at] === ']') at += 1;
      else {
        for (let index = 0; ; index += 1) {
          value(`${pointer}/${index}`, null);
          skip();
          const sep = text[at];
          at += 1;
          if (sep !== ',') break;
        }
      }
    } else if (ch === '"') {
      readString();
    } else {
      while (at < text.length && !/[\s,\]}]/.test(text[at])) at += 1;
    }
    spans.set(pointer, { start, end: at, keyStart: keyStart ?? start });
  };
  value('', null);
  return spans;
}

/** The range to select for `pointer`: the member (key through value), or its nearest parent. */
export function locatePointer(text, pointer) {
  let spans;
  try {
    spans = locateAll(text);
  } catch {
    return null;
  }
  let current = pointer || '';
  for (;;) {
    const span = spans.get(current);
    if (span) return { start: span.keyStart, end: span.end, exact: current === pointer };
    if (!current) return null;
    current = current.slice(0, current.lastIndexOf('/'));
  }
}

/** 1-based line of a character offset. */
export function lineOf(text, offset) {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i += 1) if (text[i] === '\n') line += 1;
  return line;
}

/** The character offset of a JSON.parse syntax error message ("... at position N" or line/column). */
export function syntaxErrorOffset(text, message) {
  const position = /position (\d+)/.exec(message);
  if (position) return Number(position[1]);
  const lineColumn = /line (\d+) column (\d+)/.exec(message);
  if (lineColumn) {
    const lines = text.split('\n');
    const line = Number(lineColumn[1]);
    return lines.slice(0, line - 1).reduce((sum, l) => sum + l.length + 1, 0) + Number(lineColumn[2]) - 1;
  }
  return null;
}
