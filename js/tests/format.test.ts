import { describe, expect, it } from "vitest";
import { formatBytes, formatDuration, formatEta, formatPercent, jobDuration, shortId } from "../src/format";

describe("formatDuration", () => {
  it.each([
    [0, "0.0 s"],
    [0.24, "0.2 s"],
    [9.99, "9.9 s"],
    [59.9, "59 s"],
    [60, "1 min 00 s"],
    [185, "3 min 05 s"],
    [3600, "1 h 00 min"],
    [7440, "2 h 04 min"],
    [-3, "0.0 s"],
  ])("%s s -> %s", (s, out) => expect(formatDuration(s)).toBe(out));
  it("is empty for missing values", () => {
    expect(formatDuration(null)).toBe("");
    expect(formatDuration(Number.NaN)).toBe("");
  });
});

describe("formatEta", () => {
  it("rounds up to whole seconds, never ~0", () => {
    expect(formatEta(0.2)).toBe("~1 s");
    expect(formatEta(0)).toBe("~1 s");
    expect(formatEta(12.1)).toBe("~13 s");
  });
  it("formats minutes", () => expect(formatEta(125)).toBe("~2 min 05 s"));
  it("is empty without an estimate", () => {
    expect(formatEta(null)).toBe("");
    expect(formatEta(-1)).toBe("");
  });
});

describe("formatBytes", () => {
  it.each([
    [0, "0 B"],
    [1023, "1023 B"],
    [1536, "1.5 KiB"],
    [50 * 1024 * 1024, "50 MiB"],
    [3 * 1024 ** 3, "3.0 GiB"],
  ])("%s -> %s", (n, out) => expect(formatBytes(n)).toBe(out));
  it("is empty for missing values", () => expect(formatBytes(null)).toBe(""));
});

describe("small formats", () => {
  it("clamps percentages", () => {
    expect(formatPercent(42.6)).toBe("43%");
    expect(formatPercent(140)).toBe("100%");
  });
  it("shortens ids", () => expect(shortId("0123456789abcdef")).toBe("01234567"));
  it("measures a running job until now and a finished one until its end", () => {
    expect(jobDuration(100, null, 130)).toBe(30);
    expect(jobDuration(100, 110, 130)).toBe(10);
    expect(jobDuration(null, null, 130)).toBeNull();
  });
});
