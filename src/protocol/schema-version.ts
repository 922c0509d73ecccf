import { protobufPackage } from "../../gen/ts/rr/tcp/v1/tcp.js";

/** The protobuf package of the schema the code speaks (`rr.tcp.v1`), from the generated code. */
export const SCHEMA_PACKAGE: string = protobufPackage;

/**
 * The released version of SCHEMA_PACKAGE the code speaks: the newest release of it in
 * proto/releases/index.json, which `npm run release:schema -- --version X.Y.Z` records and writes
 * here. The npm package's version carries its MAJOR.MINOR (docs/releases.md#the-version-rule);
 * test/schema checks both.
 */
export const SCHEMA_VERSION = "1.3.0";
