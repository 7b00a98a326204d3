/**
 * Small builders for the JSON Schemas of event details. The catalog is the one place
 * that declares what each action's details hold; these keep those declarations short.
 */
export type JsonSchema = Record<string, unknown>;

const ISO_UTC = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,6})?(Z|[+-]\\d{2}:\\d{2})$';

export const str = (description: string, maxLength = 1024): JsonSchema => ({ type: 'string', maxLength, description });
export const int = (description: string): JsonSchema => ({ type: 'integer', minimum: 0, description });
export const timestamp = (description: string): JsonSchema => ({ type: 'string', pattern: ISO_UTC, description });
export const oneOf = (description: string, values: readonly string[]): JsonSchema => ({ type: 'string', enum: [...values], description });
export const list = (description: string, items: JsonSchema = { type: 'string', maxLength: 1024 }): JsonSchema => ({
  type: 'array',
  items,
  maxItems: 10_000,
  description,
});
export const anyValue = (description: string): JsonSchema => ({ description });
export const obj = (description: string): JsonSchema => ({ type: 'object', description });

/**
 * The schema of one action's details: the listed fields are required (they are the
 * reference's "Details captured"); `optional` fields are typed when present. Producers may
 * add further context fields; their size and depth are bounded by the recorder.
 */
export function details(required: Record<string, JsonSchema>, optional: Record<string, JsonSchema> = {}): JsonSchema {
  return {
    type: 'object',
    properties: { ...required, ...optional },
    required: Object.keys(required),
    additionalProperties: true,
  };
}
