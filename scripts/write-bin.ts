/**
 * `npm run build`'s last step: writes dist/bin/rr-tcp, the published `rr-tcp` command. It is a
 * POSIX sh launcher, not a node shebang, because the server's node flags (SERVER_NODE_FLAGS) do
 * not fit in a portable shebang: `#!/usr/bin/env -S node <flags>` fails with BusyBox's env
 * (Alpine, the node:*-alpine images) and with coreutils older than 8.30. `exec` keeps the
 * launcher's pid for the server, so a process manager's signals reach the server itself.
 */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SERVER_NODE_FLAGS } from "../src/service/node-flags.js";

export function binLauncher(flags: readonly string[] = SERVER_NODE_FLAGS): string {
  return [
    "#!/bin/sh",
    "# Written by scripts/write-bin.ts (npm run build): the rr-tcp CLI under node with the server's flags.",
    'here=$(dirname "$(readlink -f "$0")")',
    `exec node ${flags.join(" ")} "$here/../src/cli.js" "$@"`,
    "",
  ].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = new URL("../", import.meta.url).pathname;
  const file = join(root, "dist/bin/rr-tcp");
  mkdirSync(join(root, "dist/bin"), { recursive: true });
  writeFileSync(file, binLauncher());
  chmodSync(file, 0o755);
}
