/**
 * The facts of the config's keys (defaults, units, ranges) from the schema, and Go durations, the
 * syntax its times are written in. Below config, pool and server: each takes its defaults here.
 */
export * from "./specs.js";
export * from "./duration.js";
