/**
 * Splits one WebSocket text frame into JSON texts. kurento-client with the websocket-stream
 * byte-stream transport concatenates requests sent in one tick (`{…}{…}{…}`); KMS answers only
 * the first, we answer them all. Whitespace between values is allowed.
 */
export interface SplitResult {
  /** Complete top-level JSON texts, in order. */
  texts: string[];
  /** True when something after the last complete text is not JSON (unbalanced or junk). */
  malformed: boolean;
}

export function splitJsonTexts(frame: string): SplitResult {
  const texts: string[] = [];
  let depth = 0;
  let inString = false;
  let escaped = false;
  let start = -1;
  for (let i = 0; i < frame.length; i++) {
    const ch = frame[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (ch === '\\') escaped = true;
      else if (ch === '"') inString = false;
      continue;
    }
    if (depth === 0) {
      if (ch === ' ' || ch === '\n' || ch === '\r' || ch === '\t') continue;
      if (ch !== '{' && ch !== '[') return { texts, malformed: true };
      start = i;
    }
    if (ch === '"') inString = true;
    else if (ch === '{' || ch === '[') depth++;
    else if (ch === '}' || ch === ']') {
      depth--;
      if (depth === 0) texts.push(frame.slice(start, i + 1));
    }
  }
  return { texts, malformed: depth !== 0 || inString };
}
