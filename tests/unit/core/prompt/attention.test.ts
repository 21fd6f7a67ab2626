/** A1111's prompt emphasis, on the examples A1111's own prompt parser documents. */
import { describe, expect, it } from 'vitest';
import { parsePromptAttention, usesSyntax, type PromptPiece } from '../../../../src/core/prompt/attention';

const runs = (text: string) => parsePromptAttention(text).map((p) => ('break' in p ? 'BREAK' : [p.text, p.weight]));

describe('parsePromptAttention', () => {
  it.each<[string, unknown[]]>([
    ['normal text', [['normal text', 1]]],
    [
      'an (important) word',
      [
        ['an ', 1],
        ['important', 1.1],
        [' word', 1],
      ],
    ],
    ['(unbalanced', [['unbalanced', 1.1]]],
    ['\\(literal\\]', [['(literal]', 1]]],
    ['(unnecessary)(parens)', [['unnecessaryparens', 1.1]]],
    [
      'a (((house:1.3)) [on] a (hill:0.5), sun, (((sky))).',
      [
        ['a ', 1],
        ['house', 1.5730000000000004],
        [' ', 1.1],
        ['on', 1],
        [' a ', 1.1],
        ['hill', 0.55],
        [', sun, ', 1.1],
        ['sky', 1.4641000000000006],
        ['.', 1.1],
      ],
    ],
  ])('%s', (text, expected) => {
    expect(runs(text)).toEqual(expected);
  });

  it('square brackets divide by 1.1; a weight may have spaces; closers with nothing open are text', () => {
    expect(runs('[[faint]] (bold: 1.5 ) done)')).toEqual([
      ['faint', 1 / 1.1 / 1.1],
      [' ', 1],
      ['bold', 1.5],
      [' done)', 1],
    ]);
  });

  it('BREAK ends a chunk, even inside brackets; "BREAKFAST" is a word', () => {
    expect(runs('a cat BREAK a dog')).toEqual([['a cat', 1], 'BREAK', ['a dog', 1]]);
    expect(runs('(a BREAK b)')).toEqual([['a', 1.1], 'BREAK', ['b', 1.1]]);
    expect(runs('BREAKFAST')).toEqual([['BREAKFAST', 1]]);
  });

  it('an empty prompt is one empty run; a lone backslash is dropped, an escaped one kept', () => {
    expect(runs('')).toEqual([['', 1]]);
    expect(runs('a\\b \\\\ c')).toEqual([['ab \\ c', 1]]);
  });

  it('says whether the prompt uses syntax at all', () => {
    const plain: PromptPiece[] = parsePromptAttention('a red circle, on: blue');
    expect(usesSyntax(plain)).toBe(false);
    expect(usesSyntax(parsePromptAttention('a (red) circle'))).toBe(true);
    expect(usesSyntax(parsePromptAttention('a BREAK b'))).toBe(true);
  });
});
