/** Values as JSON.parse and structured clone hand them over: checked before they are trusted. */

/** An object with string keys (not null, not an array): what a JSON object parses to. */
export type JsonObject = Record<string, unknown>;

export function isRecord(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
