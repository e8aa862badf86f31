/** What a test sees of a hold: whether the held code reached it, and the release. */
export interface Hold {
  readonly entered: boolean;
  readonly released: boolean;
  release(): void;
}

/**
 * A point that code inside a Durable Object stops at until the test releases
 * it. The held code polls a flag: a promise made in the test could not be
 * settled from inside the object.
 */
export function hold(): Hold & { wait(): Promise<void> } {
  const state = { entered: false, released: false };
  return {
    async wait() {
      state.entered = true;
      while (!state.released) await new Promise((resolve) => setTimeout(resolve, 5));
    },
    get entered() {
      return state.entered;
    },
    get released() {
      return state.released;
    },
    release() {
      state.released = true;
    },
  };
}
