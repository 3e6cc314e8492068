// Bad input (flags, env, parameters, threshold expressions, targets the user asked for) is recognised by its
// class, never by message text: every entry point exits with status 2 for it, before anything is created.

/** Exit status of a run refused for bad input. */
export const BAD_INPUT_EXIT_CODE = 2;

/** Input the user must fix; the message says what was wrong and what to do. */
export class BadInputError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "BadInputError";
  }
}

export function isBadInput(e: unknown): e is BadInputError {
  return e instanceof BadInputError;
}
