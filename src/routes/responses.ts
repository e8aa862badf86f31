import { ErrorSchema } from "./schemas";

// The pieces every route declaration uses, so a route states only what is its own.

/** A JSON response of `schema`. */
export const json = <T>(schema: T, description: string) => ({ content: { "application/json": { schema } }, description });

/** An error response (the one ApiError shape), described for this route. */
export const error = (description: string) => json(ErrorSchema, description);

type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 412 | 413 | 415 | 422 | 429;

/** Error responses by status, typed per status, so Hono's client (hc<AppType>) knows every error a route can answer. */
export const errors = <const C extends readonly ErrorStatus[]>(...codes: C) =>
  Object.fromEntries(codes.map((code) => [code, error(`Error (${code})`)])) as { [K in C[number]]: ReturnType<typeof error> };

/** The route needs an API key (the API reference shows the bearer scheme). */
export const secured = [{ bearerAuth: [] }];
