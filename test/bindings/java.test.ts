/**
 * The Java bindings (gen/java): built and installed with their Makefile against Debian's
 * protobuf-java (libprotobuf-java), then test/bindings/java/Xlang.java on the installed jar.
 */
import { realpathSync } from "node:fs";
import { basename } from "node:path";
import { expect, it } from "vitest";
import { SCHEMA_VERSION } from "../../src/protocol/schema-version.js";
import { COMMITTED_WITH } from "../../scripts/gen-bindings.js";
import { describeBindings } from "./cross-language.js";
import { bindingsXlang, buildJava, PROTOBUF_JAR } from "./toolchain.js";

describeBindings("java", () => {
  it("installs as rr-tcp-proto-<schema version>.jar", () => {
    expect(basename(buildJava().jar)).toBe(`rr-tcp-proto-${SCHEMA_VERSION}.jar`);
  });

  it("runs on the protobuf-java of the protoc that generated it", () => {
    // protobuf-java 3.21 has no version constant; Debian's jar is named after its version.
    const { protobuf_jar } = JSON.parse(bindingsXlang("java", ["runtime"])) as { protobuf_jar: string };
    const runtime = /protobuf(?:-java)?-(\d+\.\d+\.\d+)\.jar$/.exec(realpathSync(protobuf_jar))?.[1];
    expect(runtime, `the runtime ${realpathSync(PROTOBUF_JAR)} against ${COMMITTED_WITH.protoc}`).toBe(
      COMMITTED_WITH.protoc!.replace(/^libprotoc /, ""),
    );
  });
});
