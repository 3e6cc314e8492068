// Public surface of the Coder API client.
export * from "./client.ts";
export * from "./errors.ts";
export * from "./pty.ts";
export * from "./retry.ts";
export type * from "./types.ts";
