/**
 * The one place the service reads the clock. Everything else takes `now` as an
 * argument, so tests move time by back-dating state rather than by sleeping.
 */
export const clock = {
  now(): Date {
    return new Date();
  },
};
