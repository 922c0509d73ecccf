import { describe, expect, it } from "vitest";
import { BufferBudget } from "../../src/server/buffer-budget.js";

describe("BufferBudget", () => {
  it("evicts the biggest holders until the total is back under the limit", () => {
    const evicted: [string, number, number][] = [];
    const budget = new BufferBudget<string>(100, (owner, held, total) => evicted.push([owner, held, total]));
    budget.hold("a", 40);
    budget.hold("b", 30);
    budget.hold("c", 20);
    expect([budget.total, evicted]).toEqual([90, []]);
    budget.hold("c", 50); // 120 > 100: c now holds the most and goes, leaving 70
    expect(evicted).toEqual([["c", 50, 120]]);
    expect(budget.total).toBe(70);
    budget.hold("e", 35); // 105: a (40) holds the most; 65 left
    expect(evicted.at(-1)).toEqual(["a", 40, 105]);
    budget.hold("d", 80); // 145: d (80) goes, and that is enough
    expect(evicted.at(-1)).toEqual(["d", 80, 145]);
    expect(evicted).toHaveLength(3);
    expect(budget.total).toBe(65);
  });

  it("forgets owners that hold nothing or are released", () => {
    const budget = new BufferBudget<string>(10, () => {
      throw new Error("nothing should be evicted");
    });
    budget.hold("a", 6);
    budget.hold("a", 0);
    budget.hold("b", 6);
    budget.release("b");
    budget.release("b");
    budget.hold("c", 10);
    expect(budget.total).toBe(10);
  });
});
