import { describe, expect, it } from "vitest";
import { tempTree } from "../fixtures/temp-tree.js";
import { folderCycles, folderImports } from "../../scripts/lint/layers.js";

const tree = (files: Record<string, string>): string => tempTree("rr-layers-", files);

describe("the folder layers of src/", () => {
  it("have no cycle", () => {
    expect(folderCycles(folderImports("src"))).toEqual([]);
  });

  it("a cycle through three folders is reported once, with the imports that close it", () => {
    const src = tree({
      "a/x.ts": 'import { y } from "../b/y.js";\nexport const x = y;\n',
      "b/y.ts": 'import type { Z } from "../c/z.js";\nexport const y = 1;\n',
      "c/z.ts": 'export {\n  x,\n} from "../a/x.js";\nexport type Z = number;\n',
      "c/w.ts": 'import { errors } from "../errors.js";\n',
      "errors.ts": "export const errors = 1;\n",
      "cli.ts": 'import { x } from "./a/x.js";\n',
    });
    expect(folderCycles(folderImports(src))).toEqual(["a -> b (a/x.ts:1), b -> c (b/y.ts:1), c -> a (c/z.ts:1)"]);
  });

  it("imports within a folder, of top-level modules and from the top level are no layer edges", () => {
    const src = tree({
      "a/x.ts": 'import { y } from "./y.js";\nimport { e } from "../errors.js";\n',
      "a/y.ts": "export const y = 1;\n",
      "errors.ts": 'import { x } from "./a/x.js";\n',
    });
    expect(folderImports(src)).toEqual([]);
  });
});
