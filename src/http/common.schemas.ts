import { Type } from 'typebox';

export const ErrorResponse = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable machine-readable code' }),
      message: Type.String({ description: 'What went wrong, for people' }),
      details: Type.Optional(Type.Unknown()),
    }),
  },
  { description: 'Every 4xx/5xx answer has this shape.' },
);

/** The error responses every authenticated route can give. */
export const errorResponses = {
  400: ErrorResponse,
  401: ErrorResponse,
  403: ErrorResponse,
  503: ErrorResponse,
} as const;
