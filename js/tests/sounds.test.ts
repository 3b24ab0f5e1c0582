import { describe, expect, it } from "vitest";
import { newlyEnded } from "../src/sounds";
import type { JobStatus } from "../src/types";

describe("newlyEnded", () => {
  it("counts only transitions, not jobs seen for the first time or unchanged", () => {
    const before = new Map<string, JobStatus>([
      ["a", "running"],
      ["b", "running"],
      ["c", "completed"],
    ]);
    const after: [string, JobStatus][] = [
      ["a", "completed"],
      ["b", "failed"],
      ["c", "completed"],
      ["d", "failed"],
    ];
    expect(newlyEnded(before, after)).toEqual({ completed: ["a"], failed: ["b"] });
  });
});
