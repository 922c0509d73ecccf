/**
 * `buf breaking` for every package in proto/ against its newest release image in proto/releases
 * (docs/releases.md), as part of `npm run lint`. Compares with committed images, not a git ref,
 * so it works in CI's fresh clone.
 *
 *   tsx scripts/lint/schema-breaking.ts [--root dir]     exit 1 and buf's lines on stderr, or exit 0
 */
import { checkBreaking, explainBreaking, rootArgument } from "../schema-releases.js";

const root = rootArgument(process.argv);
const result = checkBreaking(root);
if (result.ok) {
  const checked = result.checked.map((c) => `${c.package} against ${c.against.version}`).join(", ");
  console.log(`schema-breaking: no breaking change (${checked || "nothing released yet"})`);
} else {
  process.stderr.write(explainBreaking(root, result, "schema-breaking"));
  process.exitCode = 1;
}
