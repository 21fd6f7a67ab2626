/** How a prompt's text is read: A1111's emphasis, BREAK and long prompts, or literally as diffusers reads it. */
export const PROMPT_SYNTAXES = ['a1111', 'plain'] as const;
export type PromptSyntax = (typeof PROMPT_SYNTAXES)[number];

export function isPromptSyntax(value: unknown): value is PromptSyntax {
  return PROMPT_SYNTAXES.some((s) => s === value);
}
