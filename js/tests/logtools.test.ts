import { describe, expect, it } from "vitest";
import { fetchWholeLog, filterLines, findMatches, logFileName, logText, splitMatches } from "../src/logtools";
import type { LogLine } from "../src/types";

const line = (seq: number, level: LogLine[2], message: string): LogLine => [seq, 0, level, message];

describe("log viewer tools", () => {
  const lines = [line(1, "INFO", "Starting"), line(2, "ERROR", "Fit failed"), line(3, "DEBUG", "fit detail"), line(4, "INFO", "FIT again")];
  it("filters by level and finds matches case-insensitively", () => {
    expect(filterLines(lines, new Set(["DEBUG", "INFO"])).map((l) => l[0])).toEqual([2]);
    expect(findMatches(lines, "fit")).toEqual([1, 2, 3]);
    expect(findMatches(lines, "")).toEqual([]);
  });
  it("splits text into matching and plain pieces", () => {
    expect(splitMatches("Fit a fit", "FIT")).toEqual([
      { text: "Fit", match: true },
      { text: " a ", match: false },
      { text: "fit", match: true },
    ]);
    expect(splitMatches("<b>", "")).toEqual([{ text: "<b>", match: false }]);
  });
  it("writes one text line per log line and a safe file name", () => {
    expect(logText([line(1, "INFO", "hello")])).toMatch(/ {2}INFO {5}hello\n$/);
    expect(logFileName("Log of Import & Index for sub-01")).toBe("Log_of_Import_Index_for_sub-01.log");
  });
  it("fetches a whole log backwards in pages", async () => {
    const all = Array.from({ length: 12001 }, (_, i) => line(i + 1, "INFO", `l${i + 1}`));
    const asked: (number | null)[] = [];
    const got = await fetchWholeLog(async (before, limit) => {
      asked.push(before);
      const end = before == null ? all.length : before - 1;
      return all.slice(Math.max(0, end - limit), end);
    });
    expect(got.map((l) => l[0])).toEqual(all.map((l) => l[0]));
    expect(asked).toEqual([null, 7002, 2002]);
  });
});
