/** A listener that a config key names (control.addr, rpc.listen) could not listen. */
export abstract class KeyedListenError extends Error {
  abstract readonly code: string;

  constructor(
    /** The config key, e.g. "rpc.listen". */
    readonly key: string,
    /** Its value. */
    readonly addr: string,
    /** Why, without the address. */
    reason: string,
    cause: Error,
  ) {
    super(`${key}: cannot listen on ${addr}: ${reason}`, { cause });
  }
}
