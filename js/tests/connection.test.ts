import { describe, expect, it } from "vitest";
import { connectionState } from "../src/views/ConnectionStatus";

describe("connectionState", () => {
  it("is connecting until the first answer or the timeout", () => {
    expect(connectionState(null, 500, 3000)).toBe("connecting");
    expect(connectionState(null, 3000, 3000)).toBe("disconnected");
  });
  it("is connected while answers are recent and disconnected after the timeout", () => {
    expect(connectionState(900, 60000, 3000)).toBe("connected");
    expect(connectionState(3000, 60000, 3000)).toBe("disconnected");
  });
});
