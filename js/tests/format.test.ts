import { describe, expect, it } from "vitest";
import { formatBytes, formatDuration, formatEta, formatPercent, jobDuration, shortId } from "../src/format";

describe("formatDuration", () => {
  it.each([
    [0, "0s"],
    [59.9, "59s"],
    [60, "1m 00s"],
    [185, "3m 05s"],
    [3600, "1h 00m"],
    [7440, "2h 04m"],
    [-3, "0s"],
  ])("%s s -> %s", (s, out) => expect(formatDuration(s)).toBe(out));
  it("is empty for missing values", () => {
    expect(formatDuration(null)).toBe("");
    expect(formatDuration(Number.NaN)).toBe("");
  });
});

describe("formatEta", () => {
  it("rounds up so that a running job never shows ~0s", () => expect(formatEta(0.2)).toBe("~1s left"));
  it("formats minutes", () => expect(formatEta(125)).toBe("~2m 05s left"));
  it("says almost done at zero", () => expect(formatEta(0)).toBe("almost done"));
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
