/**
 * Starts the next major package of the schema (docs/releases.md#a-breaking-change): copies the
 * newest proto/rr/tcp/vN to proto/rr/tcp/vN+1 with the package renamed, so the breaking change
 * can be made there while vN stays as released.
 *
 * Usage: npm run schema:new-major [-- --root <dir>]
 */
import { copySchemaPackage, rootArgument, SCHEMA_FAMILY, schemaPackagesInTree } from "./schema-releases.js";

const root = rootArgument(process.argv);
const majors = schemaPackagesInTree(root);
const newest = majors.at(-1);
if (newest === undefined) {
  process.stderr.write(`schema:new-major: there is no ${SCHEMA_FAMILY}.vN in proto/ to copy\n`);
  process.exit(1);
}
const [from, to] = [`${SCHEMA_FAMILY}.v${newest}`, `${SCHEMA_FAMILY}.v${newest + 1}`];
try {
  const copy = copySchemaPackage(root, from, to);
  console.log(`schema:new-major: copied ${from} to ${to}:\n  ${copy.copied.join("\n  ")}`);
  if (copy.kept.length > 0) {
    console.log(`  kept in ${from} and imported from there (they declare extensions): ${copy.kept.join(", ")}`);
  }
  console.log(
    `Now make the breaking change in ${to}, run \`npm run gen\`, and release it: npm run release:schema -- --version ${newest + 1}.0.0`,
  );
} catch (err) {
  process.stderr.write(`schema:new-major: ${(err as Error).message}\n`);
  process.exit(1);
}
