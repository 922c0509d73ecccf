import { protobufPackage } from "../../gen/ts/rr/tcp/v1/tcp.js";

/** The protobuf package of the schema (`rr.tcp.v1`), from the generated code. */
export const SCHEMA_PACKAGE: string = protobufPackage;

/**
 * The released version of the schema in proto/. `npm run release:schema` records the schema of
 * this version in proto/releases/, which `buf breaking` compares the working schema against.
 */
export const SCHEMA_VERSION = "1.0.0";
