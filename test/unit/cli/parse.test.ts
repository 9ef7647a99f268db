import { describe, expect, it } from "vitest";
import {
  boundedCount,
  choice,
  envPairs,
  metadataPairs,
  OUTPUT_FORMATS,
  outputFormat,
  positiveInt,
  positiveNumber,
} from "../../../src/cli/parse.js";
import { UsageError } from "../../../src/core/errors.js";
import { thrownBy } from "../../helpers/errors.js";

/** The UsageError message `fn` throws. */
function usageErrorOf(fn: () => unknown): string {
  return thrownBy(UsageError, fn).message;
}

describe("positiveInt", () => {
  it.each([
    ["1", 1],
    ["42", 42],
    ["007", 7],
    [" 3 ", 3],
    ["9007199254740991", Number.MAX_SAFE_INTEGER],
  ])("accepts %j as %s", (value, n) => {
    expect(positiveInt("--n-attempts", value)).toBe(n);
  });

  it.each(["0", "-1", "1.5", "abc", "", " ", "1e3", "+1", "0x10", "9007199254740993", "1 2"])(
    "rejects %j naming the flag and the value",
    (value) => {
      expect(usageErrorOf(() => positiveInt("--n-attempts", value))).toBe(
        `--n-attempts must be a positive integer, got "${value}"`,
      );
    },
  );
});

describe("boundedCount", () => {
  it.each([
    ["0", 0],
    ["2", 2],
    [" 10 ", 10],
  ])("accepts %j as %s", (value, n) => {
    expect(boundedCount("--max-retries", value, 10)).toBe(n);
  });

  it.each(["11", "-1", "1.5", "abc", "", "1e1", "+1", "0x2"])(
    "rejects %j naming the flag, the range and the value",
    (value) => {
      expect(usageErrorOf(() => boundedCount("--max-retries", value, 10))).toBe(
        `--max-retries must be an integer from 0 to 10, got "${value}"`,
      );
    },
  );
});

describe("positiveNumber", () => {
  it.each([
    ["1", 1],
    ["0.5", 0.5],
    [".25", 0.25],
    ["1e3", 1000],
    [" 2.5 ", 2.5],
  ])("accepts %j as %s", (value, n) => {
    expect(positiveNumber("--timeout", value)).toBe(n);
  });

  it.each(["0", "-0", "-1", "abc", "", "  ", "Infinity", "NaN", "1.5s"])(
    "rejects %j naming the flag and the value",
    (value) => {
      expect(usageErrorOf(() => positiveNumber("--timeout-multiplier", value))).toBe(
        `--timeout-multiplier must be a positive number, got "${value}"`,
      );
    },
  );
});

describe("envPairs (env)", () => {
  it("parses KEY=value pairs", () => {
    expect(envPairs(["A=1", "B_2=two"], "env")).toEqual({ A: "1", B_2: "two" });
  });

  it("splits at the first '='", () => {
    expect(envPairs(["URL=http://x/?a=b=c"], "env")).toEqual({ URL: "http://x/?a=b=c" });
  });

  it("allows an empty value and keeps spaces in the value", () => {
    expect(envPairs(["EMPTY=", "S= a b "], "env")).toEqual({ EMPTY: "", S: " a b " });
  });

  it("returns an empty object for no values", () => {
    expect(envPairs([], "env")).toEqual({});
  });

  it.each(["NOEQUALS", "=value", "1ABC=x", "A-B=x", "A B=x", " A=x", "A.B=x"])(
    "rejects %j",
    (v) => {
      expect(usageErrorOf(() => envPairs([v], "env"))).toBe(
        `Invalid environment variable format: ${v}. Expected KEY=value (KEY a valid variable name)`,
      );
    },
  );

  it("rejects a duplicate key", () => {
    expect(usageErrorOf(() => envPairs(["A=1", "B=2", "A=3"], "env"))).toBe(
      "Duplicate environment variable: A",
    );
  });

  it("treats keys case-sensitively", () => {
    expect(envPairs(["a=1", "A=2"], "env")).toEqual({ a: "1", A: "2" });
  });

  it("accepts names that are also Object.prototype members", () => {
    expect(envPairs(["constructor=1", "toString=2"], "env")).toEqual({
      constructor: "1",
      toString: "2",
    });
  });
});

describe("envPairs (secret)", () => {
  it("parses ENV_VAR=SECRET_NAME", () => {
    expect(envPairs(["ANTHROPIC_API_KEY=BMJ_ANTHROPIC_API_KEY"], "secret")).toEqual({
      ANTHROPIC_API_KEY: "BMJ_ANTHROPIC_API_KEY",
    });
  });

  it.each(["KEY", "KEY=", "KEY=bad-name", "KEY=a=b", "1KEY=NAME", "=NAME"])(
    "rejects %j (both sides must be variable names)",
    (v) => {
      expect(usageErrorOf(() => envPairs([v], "secret"))).toBe(
        `Invalid secret format: ${v}. Expected ENV_VAR=SECRET_NAME (both valid variable names)`,
      );
    },
  );

  it("rejects a duplicate env var", () => {
    expect(usageErrorOf(() => envPairs(["K=A", "K=B"], "secret"))).toBe("Duplicate secret: K");
  });
});

describe("metadataPairs", () => {
  it("parses key=value pairs, splitting at the first '='", () => {
    expect(metadataPairs(["team=infra", "expr=a=b"])).toEqual({ team: "infra", expr: "a=b" });
  });

  it("trims the key but keeps the value as given", () => {
    expect(metadataPairs([" team =  infra "])).toEqual({ team: "  infra " });
  });

  it("allows any key characters and an empty value", () => {
    expect(metadataPairs(["git.sha-1=", "with space=x"])).toEqual({
      "git.sha-1": "",
      "with space": "x",
    });
  });

  it("rejects a value without '='", () => {
    expect(usageErrorOf(() => metadataPairs(["team"]))).toBe(
      'Invalid metadata format: "team". Expected key=value',
    );
  });

  it.each(["=x", "  =x"])("rejects an empty key in %j", (v) => {
    expect(usageErrorOf(() => metadataPairs([v]))).toBe(
      `Invalid metadata format: "${v}". The key must not be empty`,
    );
  });

  it("rejects a duplicate key, also after trimming", () => {
    expect(usageErrorOf(() => metadataPairs(["k=1", " k =2"]))).toBe("Duplicate metadata key: k");
  });

  it("accepts keys that are also Object.prototype members", () => {
    expect(metadataPairs(["constructor=a", "hasOwnProperty=b"])).toEqual({
      constructor: "a",
      hasOwnProperty: "b",
    });
  });

  it("keeps a __proto__ key as data instead of rejecting or dropping it", () => {
    const out = metadataPairs(["__proto__=x"]);
    expect(Object.hasOwn(out, "__proto__")).toBe(true);
    expect(Object.getOwnPropertyDescriptor(out, "__proto__")?.value).toBe("x");
  });
});

describe("outputFormat", () => {
  it.each(OUTPUT_FORMATS)("accepts %s", (f) => {
    expect(outputFormat(f)).toBe(f);
  });

  it("lists text, json and yaml", () => {
    expect([...OUTPUT_FORMATS]).toEqual(["text", "json", "yaml"]);
  });

  it.each(["xml", "JSON", "", " json"])("rejects %j listing the valid options", (v) => {
    expect(usageErrorOf(() => outputFormat(v))).toBe(
      `Unknown output format: ${v}. Valid options: text, json, yaml`,
    );
  });
});

describe("choice", () => {
  it("returns an allowed value", () => {
    expect(choice("--sandbox", "none", ["bubblewrap", "none"])).toBe("none");
  });

  it("rejects anything else, naming the flag, the options and the value", () => {
    expect(usageErrorOf(() => choice("--sandbox", "docker", ["bubblewrap", "none"]))).toBe(
      '--sandbox must be one of bubblewrap, none, got "docker"',
    );
  });
});
