// Telling a cut JSON body from a wrong one: a body that breaks off in the
// middle of a value (a connection cut after some bytes) is a prefix of valid
// JSON, and a retry with the same idempotency key recovers it; anything else
// that fails to parse is a server bug and is not retried.

/** Whether `text` breaks off inside a JSON value with nothing invalid before the break (an empty text counts). */
export function isCutJSON(text: string): boolean {
  const n = text.length;
  const stack: number[] = []; // 123 '{' or 91 '['
  type Expect = 'value' | 'valueOrClose' | 'key' | 'keyOrClose' | 'colon' | 'after' | 'done';
  let expect: Expect = 'value';
  let i = 0;
  const afterValue = (): Expect => (stack.length > 0 ? 'after' : 'done');
  for (;;) {
    while (i < n && isSpace(text.charCodeAt(i))) i++;
    if (i >= n) return expect !== 'done';
    const c = text.charCodeAt(i);
    switch (expect) {
      case 'done':
        return false; // something after a complete value
      case 'colon':
        if (c !== 58 /* : */) return false;
        i++;
        expect = 'value';
        continue;
      case 'after': {
        const top = stack[stack.length - 1];
        if (c === 44 /* , */) {
          i++;
          expect = top === 123 ? 'key' : 'value';
        } else if ((c === 125 && top === 123) || (c === 93 && top === 91)) {
          i++;
          stack.pop();
          expect = afterValue();
        } else {
          return false;
        }
        continue;
      }
      case 'key':
      case 'keyOrClose':
        if (c === 125 /* } */ && expect === 'keyOrClose') {
          i++;
          stack.pop();
          expect = afterValue();
          continue;
        }
        if (c !== 34 /* " */) return false;
        {
          const end = scanString(text, i);
          if (end === CUT) return true;
          if (end === BAD) return false;
          i = end;
        }
        expect = 'colon';
        continue;
      case 'value':
      case 'valueOrClose': {
        if (c === 93 /* ] */ && expect === 'valueOrClose') {
          i++;
          stack.pop();
          expect = afterValue();
          continue;
        }
        if (c === 123 || c === 91) {
          stack.push(c);
          i++;
          expect = c === 123 ? 'keyOrClose' : 'valueOrClose';
          continue;
        }
        let end: number;
        if (c === 34) end = scanString(text, i);
        else if (c === 45 || (c >= 48 && c <= 57)) end = scanNumber(text, i);
        else if (c === 116) end = scanLiteral(text, i, 'true');
        else if (c === 102) end = scanLiteral(text, i, 'false');
        else if (c === 110) end = scanLiteral(text, i, 'null');
        else return false;
        if (end === CUT) return true;
        if (end === BAD) return false;
        i = end;
        expect = afterValue();
        continue;
      }
    }
  }
}

const CUT = -1;
const BAD = -2;

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

function scanString(s: string, start: number): number {
  const n = s.length;
  for (let j = start + 1; j < n; ) {
    const c = s.charCodeAt(j);
    if (c === 34) return j + 1;
    if (c < 0x20) return BAD;
    if (c !== 92 /* \ */) {
      j++;
      continue;
    }
    if (j + 1 >= n) return CUT;
    const e = s.charCodeAt(j + 1);
    if (e === 117 /* u */) {
      for (let k = j + 2; k < j + 6; k++) {
        if (k >= n) return CUT;
        if (!isHex(s.charCodeAt(k))) return BAD;
      }
      j += 6;
    } else if ('"\\/bfnrt'.includes(String.fromCharCode(e))) {
      j += 2;
    } else {
      return BAD;
    }
  }
  return CUT;
}

function scanNumber(s: string, start: number): number {
  let j = start;
  while (j < s.length && /[\d.eE+-]/.test(s[j] as string)) j++;
  if (j >= s.length) return CUT; // a number running to the end may go on
  return /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/.test(s.slice(start, j)) ? j : BAD;
}

function scanLiteral(s: string, start: number, word: string): number {
  for (let k = 0; k < word.length; k++) {
    if (start + k >= s.length) return CUT;
    if (s.charCodeAt(start + k) !== word.charCodeAt(k)) return BAD;
  }
  return start + word.length;
}
