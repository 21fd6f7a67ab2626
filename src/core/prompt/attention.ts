/**
 * A1111's prompt emphasis: `(word)` ×1.1, `[word]` ÷1.1, `(word:1.3)`, `\(` escapes and `BREAK`,
 * read as A1111's prompt parser reads it (its documented examples are the unit tests). Brackets
 * left open apply to the end of the prompt; a closing bracket with nothing open is plain text.
 * One deliberate difference: A1111 multiplies a BREAK inside brackets like text, after which it
 * no longer ends the chunk but is encoded as the word "BREAK"; here a BREAK always ends the chunk.
 */

/** A run of text and the weight its tokens get, or a BREAK (the chunk ends there). */
export type PromptPiece = { text: string; weight: number } | { break: true };

export const ROUND_MULTIPLIER = 1.1;
export const SQUARE_MULTIPLIER = 1 / 1.1;

// The lexemes in A1111's order: escapes, a lone backslash, openers, an explicit weight that
// closes a round bracket, closers, plain text, and a lone colon.
const LEXEME = /\\\(|\\\)|\\\[|\\]|\\\\|\\|\(|\[|:\s*([+-]?[.\d]+)\s*\)|\)|]|[^\\()[\]:]+|:/g;
const BREAK = /\s*\bBREAK\b\s*/;

interface Run {
  text: string;
  /** −1 marks a BREAK while parsing, as the weights of text runs are always positive products. */
  weight: number;
}

export function parsePromptAttention(prompt: string): PromptPiece[] {
  const runs: Run[] = [];
  const round: number[] = [];
  const square: number[] = [];
  const multiplyFrom = (start: number, by: number) => {
    for (let i = start; i < runs.length; i++) if (runs[i]!.weight !== -1) runs[i]!.weight *= by;
  };

  for (const match of prompt.matchAll(LEXEME)) {
    const lexeme = match[0];
    const weight = match[1];
    if (lexeme.startsWith('\\')) runs.push({ text: lexeme.slice(1), weight: 1 });
    else if (lexeme === '(') round.push(runs.length);
    else if (lexeme === '[') square.push(runs.length);
    else if (weight !== undefined && round.length > 0 && Number.isFinite(Number(weight)))
      multiplyFrom(round.pop()!, Number(weight));
    else if (lexeme === ')' && round.length > 0) multiplyFrom(round.pop()!, ROUND_MULTIPLIER);
    else if (lexeme === ']' && square.length > 0) multiplyFrom(square.pop()!, SQUARE_MULTIPLIER);
    else {
      lexeme.split(BREAK).forEach((part, i) => {
        if (i > 0) runs.push({ text: 'BREAK', weight: -1 });
        runs.push({ text: part, weight: 1 });
      });
    }
  }
  for (const start of round) multiplyFrom(start, ROUND_MULTIPLIER);
  for (const start of square) multiplyFrom(start, SQUARE_MULTIPLIER);
  if (runs.length === 0) runs.push({ text: '', weight: 1 });

  // Neighbours with the same weight are one run (two BREAKs in a row stay two chunk ends).
  const merged: Run[] = [];
  for (const run of runs) {
    const last = merged[merged.length - 1];
    if (last && last.weight === run.weight && run.weight !== -1) last.text += run.text;
    else merged.push({ ...run });
  }
  return merged.map((r) => (r.weight === -1 ? { break: true } : { text: r.text, weight: r.weight }));
}

/** Whether the prompt uses any emphasis or BREAK (else it encodes exactly as the plain text). */
export function usesSyntax(pieces: readonly PromptPiece[]): boolean {
  return pieces.some((p) => 'break' in p || p.weight !== 1);
}
