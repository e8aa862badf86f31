/**
 * The one place the service reads the clock or waits for it. Everything else
 * takes `now` as an argument, so tests move time by back-dating state, and a
 * wait moves a frozen test clock instead of sleeping.
 */
export const clock = {
  now(): Date {
    return new Date();
  },
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  },
};
