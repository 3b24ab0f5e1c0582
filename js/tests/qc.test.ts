import { describe, expect, it } from "vitest";
import { exportName, qcReducer, ratingOf } from "../src/state/qc";
import { moveIndex, reviewReducer, type Tile } from "../src/state/review";

describe("qc ratings", () => {
  it("sets, replaces and removes ratings from patches", () => {
    let s = qcReducer.init({ ratings: { a: { fit: { rating: "pass", note: "", time: 1 } } } }, undefined);
    s = qcReducer.patch(s, { ratings: { a: { fit: { rating: "fail", note: "vein", time: 2 } }, b: { fit: { rating: "pass", note: "", time: 3 } } } });
    expect(ratingOf(s, "a", "fit")?.note).toBe("vein");
    s = qcReducer.patch(s, { ratings: { a: { fit: null } } });
    expect(ratingOf(s, "a", "fit")).toBeUndefined();
    expect(ratingOf(s, "b", "fit")?.rating).toBe("pass");
  });
  it("names the export file safely", () => {
    expect(exportName("my study/2", true)).toBe("my_study_2-qc-exclusions.tsv");
    expect(exportName("", false)).toBe("project-qc-ratings.tsv");
  });
});

describe("review grid", () => {
  const tiles: Tile[] = ["a", "b", "c", "d", "e"].map((n) => ({ subject_id: n, name: n, job_id: null, index: null }));
  it("moves by arrows within the grid's bounds", () => {
    expect(moveIndex("ArrowRight", 4, 5, 3)).toBe(4);
    expect(moveIndex("ArrowDown", 1, 5, 3)).toBe(4);
    expect(moveIndex("ArrowUp", 1, 5, 3)).toBe(0);
    expect(moveIndex("End", 0, 5, 3)).toBe(4);
    expect(moveIndex("p", 0, 5, 3)).toBeNull();
  });
  it("replaces changed tiles in place", () => {
    const s = reviewReducer.init({ project: "p", stage: { id: "fit", label: "Fit" }, label: null, labels: [], tiles }, undefined);
    const next = reviewReducer.patch(s, { tiles: [{ subject_id: "c", name: "c", job_id: "j", index: 2 }], labels: ["ki"] });
    expect(next.tiles[2].job_id).toBe("j");
    expect(next.tiles.map((t) => t.name)).toEqual(["a", "b", "c", "d", "e"]);
    expect(next.labels).toEqual(["ki"]);
  });
});

describe("fidelity numbers", () => {
  it("show three significant digits without exponents or trailing zeros", async () => {
    const { shortNumber } = await import("../src/components/Results");
    expect([1330, 0.5, 0.16735, 100, 4.5, null].map(shortNumber)).toEqual(["1330", "0.5", "0.167", "100", "4.5", "—"]);
  });
});
