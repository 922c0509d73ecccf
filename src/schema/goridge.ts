/**
 * `rr-tcp/schema/goridge`: the generated TypeScript of rr.goridge.v1 (proto/rr/goridge/v1): the
 * frame's flags, stream bits and header layout, and the control and RPC messages. One generated
 * file, so a star export names everything without ambiguity. The codec that uses them is
 * src/goridge (docs/wire.md#flags).
 */
export * from "../../gen/ts/rr/goridge/v1/goridge.js";
