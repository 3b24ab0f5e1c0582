// @vitest-environment jsdom
import { h, render } from "preact";
import { act } from "preact/test-utils";
import { afterEach, describe, expect, it } from "vitest";
import { useThrottledMemo } from "../src/hooks";

afterEach(() => {
  document.body.innerHTML = "";
});

/** Busy for `ms` (a computation that costs that much). */
function spend(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

describe("useThrottledMemo", () => {
  it("holds back a data change for 9 times the computation's cost, not a change of its inputs", async () => {
    const el = document.createElement("div");
    document.body.appendChild(el);
    const calls: string[] = [];
    const View = ({ version, input }: { version: number; input: string }) => {
      const value = useThrottledMemo(
        () => {
          calls.push(`${input}${version}`);
          spend(20);
          return `${input}${version}`;
        },
        version,
        [input],
      );
      return h("span", {}, value);
    };
    await act(() => render(h(View, { version: 1, input: "a" }), el));
    await act(() => render(h(View, { version: 2, input: "a" }), el));
    await act(() => render(h(View, { version: 3, input: "a" }), el));
    expect([el.textContent, calls]).toEqual(["a1", ["a1"]]); // held: 20 ms of work, 180 ms for the page
    await act(async () => {
      await new Promise((r) => setTimeout(r, 300));
    });
    expect([el.textContent, calls]).toEqual(["a3", ["a1", "a3"]]); // the latest, once, when due
    await act(() => render(h(View, { version: 3, input: "b" }), el));
    expect(el.textContent).toBe("b3"); // the user's change: at once
    await act(() => render(null, el));
  });
});
