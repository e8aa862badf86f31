import { Cron } from "croner";
import { describe, expect, it } from "vitest";
import {
  canonicalTimeZone,
  checkSchedule,
  instantsBetween,
  isValidTimeZone,
  MAX_CRON_LENGTH,
  nextRunAfter,
  upcomingRuns,
} from "../src/cron/schedule";

/**
 * Pure cron arithmetic (issue 2 "Cron syntax", issue 3 "Time zones and DST").
 * Every expectation is an exact instant; DST expectations were worked out from
 * the zone's tz rules for 2027 and are written next to each case.
 */

// Tuesday. Far enough from any DST transition that UTC and local cases don't interact.
const REF = new Date("2027-06-15T10:20:30.000Z");

function iso(dates: Array<Date | null>): Array<string | null> {
  return dates.map((d) => (d === null ? null : d.toISOString()));
}

function runs(expression: string, timezone: string, after: string | Date, count: number): string[] {
  return upcomingRuns(expression, timezone, new Date(after), count).map((d) => d.toISOString());
}

function refusal(expression: string, timezone = "UTC"): string {
  const result = checkSchedule(expression, timezone);
  if (result.ok) throw new Error(`expected ${JSON.stringify(expression)} in ${timezone} to be refused`);
  return result.message;
}

describe("cron syntax: accepted expressions, exact next instants from 2027-06-15T10:20:30Z (Tue)", () => {
  const cases: Array<[string, string[]]> = [
    ["* * * * *", ["2027-06-15T10:21:00.000Z", "2027-06-15T10:22:00.000Z", "2027-06-15T10:23:00.000Z"]],
    ["5,35 * * * *", ["2027-06-15T10:35:00.000Z", "2027-06-15T11:05:00.000Z", "2027-06-15T11:35:00.000Z"]],
    ["10-12 * * * *", ["2027-06-15T11:10:00.000Z", "2027-06-15T11:11:00.000Z", "2027-06-15T11:12:00.000Z"]],
    ["5-10,50 * * * *", ["2027-06-15T10:50:00.000Z", "2027-06-15T11:05:00.000Z", "2027-06-15T11:06:00.000Z"]],
    ["*/15 * * * *", ["2027-06-15T10:30:00.000Z", "2027-06-15T10:45:00.000Z", "2027-06-15T11:00:00.000Z"]],
    ["10-40/10 * * * *", ["2027-06-15T10:30:00.000Z", "2027-06-15T10:40:00.000Z", "2027-06-15T11:10:00.000Z"]],
    ["0 9-17/4 * * *", ["2027-06-15T13:00:00.000Z", "2027-06-15T17:00:00.000Z", "2027-06-16T09:00:00.000Z"]],
    ["0 2 * * *", ["2027-06-16T02:00:00.000Z", "2027-06-17T02:00:00.000Z", "2027-06-18T02:00:00.000Z"]],
    ["0 0 */10 * *", ["2027-06-21T00:00:00.000Z", "2027-07-01T00:00:00.000Z", "2027-07-11T00:00:00.000Z"]],
    ["0 0 1 */5 *", ["2027-11-01T00:00:00.000Z", "2028-01-01T00:00:00.000Z", "2028-06-01T00:00:00.000Z"]],
    ["0 0 1 JAN,JUL *", ["2027-07-01T00:00:00.000Z", "2028-01-01T00:00:00.000Z", "2028-07-01T00:00:00.000Z"]],
    ["0 0 1 FEB-APR *", ["2028-02-01T00:00:00.000Z", "2028-03-01T00:00:00.000Z", "2028-04-01T00:00:00.000Z"]],
    ["0 8 * * MON-FRI", ["2027-06-16T08:00:00.000Z", "2027-06-17T08:00:00.000Z", "2027-06-18T08:00:00.000Z"]],
    ["0 8 * * SAT,SUN", ["2027-06-19T08:00:00.000Z", "2027-06-20T08:00:00.000Z", "2027-06-26T08:00:00.000Z"]],
    // Names are case-insensitive.
    ["0 12 * jun-aug tue", ["2027-06-15T12:00:00.000Z", "2027-06-22T12:00:00.000Z", "2027-06-29T12:00:00.000Z"]],
    // Sunday is both 0 and 7.
    ["0 12 * * 0", ["2027-06-20T12:00:00.000Z", "2027-06-27T12:00:00.000Z", "2027-07-04T12:00:00.000Z"]],
    ["0 12 * * 7", ["2027-06-20T12:00:00.000Z", "2027-06-27T12:00:00.000Z", "2027-07-04T12:00:00.000Z"]],
    // Day-of-month and day-of-week both restricted: either matches (Vixie cron), so this is
    // "the 1st-7th, and every Monday", not "the first Monday".
    ["0 0 1-7 * 1", ["2027-06-21T00:00:00.000Z", "2027-06-28T00:00:00.000Z", "2027-07-01T00:00:00.000Z"]],
    // Fires only in leap years.
    ["0 0 29 2 *", ["2028-02-29T00:00:00.000Z", "2032-02-29T00:00:00.000Z", "2036-02-29T00:00:00.000Z"]],
    ["@hourly", ["2027-06-15T11:00:00.000Z", "2027-06-15T12:00:00.000Z", "2027-06-15T13:00:00.000Z"]],
    ["@daily", ["2027-06-16T00:00:00.000Z", "2027-06-17T00:00:00.000Z", "2027-06-18T00:00:00.000Z"]],
    // @weekly is Sunday midnight.
    ["@weekly", ["2027-06-20T00:00:00.000Z", "2027-06-27T00:00:00.000Z", "2027-07-04T00:00:00.000Z"]],
    ["@monthly", ["2027-07-01T00:00:00.000Z", "2027-08-01T00:00:00.000Z", "2027-09-01T00:00:00.000Z"]],
    ["@yearly", ["2028-01-01T00:00:00.000Z", "2029-01-01T00:00:00.000Z", "2030-01-01T00:00:00.000Z"]],
    ["@annually", ["2028-01-01T00:00:00.000Z", "2029-01-01T00:00:00.000Z", "2030-01-01T00:00:00.000Z"]],
    ["@DAILY", ["2027-06-16T00:00:00.000Z", "2027-06-17T00:00:00.000Z", "2027-06-18T00:00:00.000Z"]],
  ];

  for (const [expression, expected] of cases) {
    it(`${expression} -> ${expected[0]}`, () => {
      expect(checkSchedule(expression, "UTC")).toEqual({ ok: true });
      expect(nextRunAfter(expression, "UTC", REF)?.toISOString()).toBe(expected[0]);
      expect(runs(expression, "UTC", REF, 3)).toEqual(expected);
    });
  }

  it("tolerates surrounding and repeated whitespace", () => {
    expect(checkSchedule("  0   2 *  * *  ", "UTC")).toEqual({ ok: true });
    expect(nextRunAfter("  0   2 *  * *  ", "UTC", REF)?.toISOString()).toBe("2027-06-16T02:00:00.000Z");
  });
});

describe("cron syntax: refused expressions", () => {
  it("refuses the wrong number of fields, naming the five it wants", () => {
    for (const [expression, got] of [
      ["*", 1],
      ["* * * *", 4],
      ["0 * * * * *", 6], // a seconds field is not standard 5-field cron
      ["0 0 * * * * 2027", 7],
    ] as const) {
      expect(refusal(expression), expression).toBe(
        `cron_expression must have 5 fields (minute hour day-of-month month day-of-week), got ${got}`,
      );
    }
  });

  it("refuses an empty or blank expression", () => {
    expect(refusal("")).toBe("cron_expression is empty");
    expect(refusal("   ")).toBe("cron_expression is empty");
  });

  // Each refusal names the field (as the API documents it), quotes its value, and gives the range.
  const outOfRange: Array<[string, string]> = [
    ["60 * * * *", 'minute field "60" is out of range (allowed 0-59)'],
    ["1-60 * * * *", 'minute field "1-60" is out of range (allowed 0-59)'],
    ["0 24 * * *", 'hour field "24" is out of range (allowed 0-23)'],
    ["0 0 0 * *", 'day-of-month field "0" is out of range (allowed 1-31)'],
    ["0 0 32 * *", 'day-of-month field "32" is out of range (allowed 1-31)'],
    ["0 0 1 0 *", 'month field "0" is out of range (allowed 1-12 or JAN-DEC)'],
    ["0 0 1 13 *", 'month field "13" is out of range (allowed 1-12 or JAN-DEC)'],
    ["0 0 * * 8", 'day-of-week field "8" is out of range (allowed 0-7 or SUN-SAT)'],
  ];
  for (const [expression, message] of outOfRange) {
    it(`refuses an out-of-range value: ${expression}`, () => {
      expect(refusal(expression)).toBe(`cron_expression is invalid: ${message}`);
    });
  }

  it("refuses a step of 0 in any field, naming the field", () => {
    expect(refusal("*/0 * * * *")).toBe('cron_expression is invalid: minute field "*/0" is invalid (Syntax error, illegal stepping: 0)');
    expect(refusal("0 */0 * * *")).toBe('cron_expression is invalid: hour field "*/0" is invalid (Syntax error, illegal stepping: 0)');
    expect(refusal("0 0 1-10/0 * *")).toMatch(/^cron_expression is invalid: day-of-month field "1-10\/0" .*stepping/);
  });

  it("refuses a reversed range in each field, naming the field", () => {
    const cases: Array<[string, string]> = [
      ["5-1 * * * *", "minute"],
      ["0 5-1 * * *", "hour"],
      ["0 0 20-10 * *", "day-of-month"],
      ["0 0 1 12-1 *", "month"],
      ["0 0 * * 5-1", "day-of-week"],
    ];
    for (const [expression, field] of cases) {
      const range = expression.split(" ").find((f) => f.includes("-"));
      expect(refusal(expression), expression).toBe(
        `cron_expression is invalid: ${field} field "${range}" is invalid (From value is larger than to value: '${range}')`,
      );
    }
  });

  it("refuses garbage", () => {
    expect(refusal("foo bar baz qux quux")).toBe(
      'cron_expression is invalid: minute field "foo" is invalid (configuration entry 1 (foo) contains illegal characters.)',
    );
    expect(refusal("0 0 * FOO *")).toBe(
      'cron_expression is invalid: month field "FOO" is invalid (configuration entry 4 (FOO) contains illegal characters.)',
    );
    expect(refusal("0 0 * * FOO")).toBe(
      'cron_expression is invalid: day-of-week field "FOO" is invalid (configuration entry 5 (FOO) contains illegal characters.)',
    );
    expect(refusal("1.5 * * * *")).toMatch(/^cron_expression is invalid: .*illegal characters/);
    expect(refusal("1,,2 * * * *")).toMatch(/^cron_expression is invalid: .*minute.*empty/);
    expect(refusal("every day at noon")).toBe(
      "cron_expression must have 5 fields (minute hour day-of-month month day-of-week), got 4",
    );
  });

  it(`refuses more than ${MAX_CRON_LENGTH} characters and accepts exactly ${MAX_CRON_LENGTH}`, () => {
    expect(MAX_CRON_LENGTH).toBe(100);
    const minutes = Array.from({ length: 30 }, (_, i) => i).join(","); // "0,1,...,29": 79 characters
    const atLimit = `${minutes} 0,1,2,3,4,5,10 * * *`;
    expect(atLimit.length).toBe(MAX_CRON_LENGTH);
    expect(checkSchedule(atLimit, "UTC")).toEqual({ ok: true });
    expect(nextRunAfter(atLimit, "UTC", REF)?.toISOString()).toBe("2027-06-15T10:21:00.000Z");
    const overLimit = `${minutes} 0,1,2,3,4,5,6,7 * * *`;
    expect(overLimit.length).toBe(MAX_CRON_LENGTH + 1);
    expect(refusal(overLimit)).toBe("cron_expression is longer than 100 characters");
    expect(refusal("*".repeat(500))).toBe("cron_expression is longer than 100 characters");
  });

  it("refuses an expression that can never fire", () => {
    expect(refusal("0 0 30 2 *")).toBe('cron_expression "0 0 30 2 *" never fires (no matching date exists)');
    expect(refusal("0 0 31 4 *")).toBe('cron_expression "0 0 31 4 *" never fires (no matching date exists)');
    expect(refusal("0 0 30 2 *", "America/New_York")).toMatch(/never fires/);
    expect(nextRunAfter("0 0 30 2 *", "UTC", REF)).toBeNull();
    expect(upcomingRuns("0 0 30 2 *", "UTC", REF, 5)).toEqual([]);
  });

  it("refuses an unknown macro, listing the known ones", () => {
    const known = "@yearly, @annually, @monthly, @weekly, @daily, @hourly";
    for (const macro of ["@midnight", "@reboot", "@every 5m", "@", "@fortnightly"]) {
      expect(refusal(macro), macro).toBe(`cron_expression macro "${macro}" is not one of ${known}`);
    }
  });

  it("refuses an unknown time zone, naming it", () => {
    for (const zone of ["Mars/Olympus_Mons", "America/New_Yrok", "UTC+5", "", "x".repeat(65)]) {
      expect(refusal("0 2 * * *", zone), zone).toBe(`timezone "${zone}" is not a known IANA time zone`);
    }
  });
});

describe("isValidTimeZone", () => {
  it("knows IANA zones, including aliases and Etc/ zones", () => {
    for (const zone of ["UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata", "Etc/GMT-14"]) {
      expect(isValidTimeZone(zone), zone).toBe(true);
    }
  });

  it("refuses unknown, empty and absurdly long names", () => {
    for (const zone of ["Mars/Olympus_Mons", "America/New_Yrok", "Not a zone", "", "Europe/" + "B".repeat(60)]) {
      expect(isValidTimeZone(zone), zone).toBe(false);
    }
  });
});

describe("nextRunAfter and upcomingRuns", () => {
  it("nextRunAfter is strictly after its argument: an instant exactly at a fire time gives the following one", () => {
    const at = new Date("2027-06-16T02:00:00.000Z");
    expect(nextRunAfter("0 2 * * *", "UTC", at)?.toISOString()).toBe("2027-06-17T02:00:00.000Z");
    expect(nextRunAfter("0 2 * * *", "UTC", new Date(at.getTime() - 1))?.toISOString()).toBe(
      "2027-06-16T02:00:00.000Z",
    );
    expect(nextRunAfter("0 2 * * *", "UTC", new Date(at.getTime() + 1))?.toISOString()).toBe(
      "2027-06-17T02:00:00.000Z",
    );
    expect(nextRunAfter("* * * * *", "UTC", new Date("2027-06-15T10:20:00.000Z"))?.toISOString()).toBe(
      "2027-06-15T10:21:00.000Z",
    );
    expect(nextRunAfter("* * * * *", "UTC", new Date("2027-06-15T10:20:59.999Z"))?.toISOString()).toBe(
      "2027-06-15T10:21:00.000Z",
    );
  });

  it("a zone that is UTC all year gives croner's own instants for that zone", () => {
    const expressions = ["* * * * *", "*/7 3-5 * * *", "0 0 29 2 *", "30 2 L * *", "0 9 * * 1-5", "15 10 1,15 * 5", "0 0 * * 5#2", "@weekly", "@yearly"];
    const from = new Date("2027-02-27T23:58:30.000Z");
    for (const zone of ["UTC", "Etc/UTC", "GMT", "Etc/GMT"]) {
      for (const expression of expressions) {
        const croner = new Cron(expression, { timezone: zone, paused: true, mode: "5-part" }).nextRuns(40, from).map((d) => d.toISOString());
        expect(runs(expression, zone, from, 40), `${expression} in ${zone}`).toEqual(croner);
      }
    }
  });

  it("nextRunAfter returns whole minutes (no seconds or milliseconds)", () => {
    const next = nextRunAfter("*/15 * * * *", "UTC", new Date("2027-06-15T10:20:30.123Z"));
    expect(next?.toISOString()).toBe("2027-06-15T10:30:00.000Z");
  });

  it("upcomingRuns returns 5 strictly increasing instants, all after the reference", () => {
    const five = upcomingRuns("*/20 9-10 * * MON-FRI", "UTC", REF, 5);
    expect(iso(five)).toEqual([
      "2027-06-15T10:40:00.000Z", // Tue, still inside 09:00-10:59
      "2027-06-16T09:00:00.000Z", // Wed
      "2027-06-16T09:20:00.000Z",
      "2027-06-16T09:40:00.000Z",
      "2027-06-16T10:00:00.000Z",
    ]);
    expect(five[0]!.getTime()).toBeGreaterThan(REF.getTime());
    for (let i = 1; i < five.length; i++) expect(five[i]!.getTime()).toBeGreaterThan(five[i - 1]!.getTime());
  });

  it("upcomingRuns stays strictly increasing across a fall-back in a named zone", () => {
    // America/New_York, 2027-11-07: 02:00 EDT -> 01:00 EST, so 01:00 local happens twice.
    const five = upcomingRuns("0 * * * *", "America/New_York", new Date("2027-11-07T04:30:00.000Z"), 5);
    expect(iso(five)).toEqual([
      "2027-11-07T05:00:00.000Z", // 01:00 EDT
      "2027-11-07T06:00:00.000Z", // 01:00 EST
      "2027-11-07T07:00:00.000Z", // 02:00 EST
      "2027-11-07T08:00:00.000Z",
      "2027-11-07T09:00:00.000Z",
    ]);
    for (let i = 1; i < five.length; i++) expect(five[i]!.getTime()).toBeGreaterThan(five[i - 1]!.getTime());
  });

  it("upcomingRuns excludes an instant exactly at the reference", () => {
    expect(runs("0 2 * * *", "UTC", "2027-06-16T02:00:00.000Z", 2)).toEqual([
      "2027-06-17T02:00:00.000Z",
      "2027-06-18T02:00:00.000Z",
    ]);
  });
});

describe("instantsBetween", () => {
  it("counts the instants in [from, to], both ends inclusive, and gives the latest", () => {
    const from = new Date("2027-06-15T10:00:00.000Z");
    const to = new Date("2027-06-15T10:03:00.000Z");
    expect(instantsBetween("* * * * *", "UTC", from, to)).toEqual({
      count: 4,
      latest: new Date("2027-06-15T10:03:00.000Z"),
      next: new Date("2027-06-15T10:04:00.000Z"),
    });
    expect(instantsBetween("* * * * *", "UTC", new Date(from.getTime() + 1), new Date(to.getTime() - 1))).toEqual({
      count: 2,
      latest: new Date("2027-06-15T10:02:00.000Z"),
      next: new Date("2027-06-15T10:03:00.000Z"),
    });
  });

  it("is empty when nothing falls in the interval, or the interval is reversed", () => {
    expect(
      instantsBetween("0 2 * * *", "UTC", new Date("2027-06-15T02:00:00.001Z"), new Date("2027-06-16T01:59:59.999Z")),
    ).toEqual({ count: 0, latest: null, next: new Date("2027-06-16T02:00:00.000Z") });
    expect(
      instantsBetween("* * * * *", "UTC", new Date("2027-06-15T10:05:00.000Z"), new Date("2027-06-15T10:00:00.000Z")),
    ).toEqual({ count: 0, latest: null, next: new Date("2027-06-15T10:01:00.000Z") });
  });

  it("stops counting at the limit but still reports the true latest instant", () => {
    const result = instantsBetween(
      "* * * * *",
      "UTC",
      new Date("2027-06-15T00:00:00.000Z"),
      new Date("2027-06-16T00:00:00.000Z"),
      50,
    );
    expect(result).toEqual({ count: 50, latest: new Date("2027-06-16T00:00:00.000Z"), next: new Date("2027-06-16T00:01:00.000Z") });
    expect(
      instantsBetween("* * * * *", "UTC", new Date("2027-06-15T00:00:00.000Z"), new Date("2027-06-16T00:00:00.000Z")),
    ).toEqual({ count: 100, latest: new Date("2027-06-16T00:00:00.000Z"), next: new Date("2027-06-16T00:01:00.000Z") });
  });

  it("counts a fixed-hour job once on a fall-back day (America/New_York, 2027-11-07)", () => {
    expect(
      instantsBetween(
        "30 1 * * *",
        "America/New_York",
        new Date("2027-11-06T12:00:00.000Z"),
        new Date("2027-11-08T12:00:00.000Z"),
      ),
    ).toEqual({ count: 2, latest: new Date("2027-11-08T06:30:00.000Z"), next: new Date("2027-11-09T06:30:00.000Z") }); // 11-07 05:30Z and 11-08 06:30Z
  });
});

describe("time zones and DST (2027 tz rules; one test per transition)", () => {
  it("America/New_York spring forward: a nonexistent wall time fires once, at the first instant after the gap", () => {
    // Sun 2027-03-14 02:00 EST (07:00Z) -> 03:00 EDT. 02:30 does not exist; 03:00 EDT is 07:00Z.
    expect(checkSchedule("30 2 14 3 *", "America/New_York")).toEqual({ ok: true });
    expect(runs("30 2 14 3 *", "America/New_York", "2027-03-01T00:00:00.000Z", 2)).toEqual([
      "2027-03-14T07:00:00.000Z",
      "2028-03-14T06:30:00.000Z", // 2028 DST began 03-12, so 02:30 EDT exists on the 14th
    ]);
    // From inside the gap and from the very instant: no second run that day.
    expect(nextRunAfter("30 2 14 3 *", "America/New_York", new Date("2027-03-14T06:59:59.999Z"))?.toISOString()).toBe(
      "2027-03-14T07:00:00.000Z",
    );
    expect(nextRunAfter("30 2 14 3 *", "America/New_York", new Date("2027-03-14T07:00:00.000Z"))?.toISOString()).toBe(
      "2028-03-14T06:30:00.000Z",
    );
  });

  it("America/New_York spring forward: a daily 02:30 job runs on the day before, at the gap's end, and the day after", () => {
    expect(runs("30 2 * * *", "America/New_York", "2027-03-12T12:00:00.000Z", 3)).toEqual([
      "2027-03-13T07:30:00.000Z", // 02:30 EST
      "2027-03-14T07:00:00.000Z", // 03:00 EDT, first instant after the gap
      "2027-03-15T06:30:00.000Z", // 02:30 EDT
    ]);
  });

  it("America/New_York spring forward: hour * runs every real hour, no duplicate and no gap but the missing hour", () => {
    expect(runs("0 * * * *", "America/New_York", "2027-03-14T04:30:00.000Z", 5)).toEqual([
      "2027-03-14T05:00:00.000Z", // 00:00 EST
      "2027-03-14T06:00:00.000Z", // 01:00 EST
      "2027-03-14T07:00:00.000Z", // 03:00 EDT (02:00 never happened)
      "2027-03-14T08:00:00.000Z", // 04:00 EDT
      "2027-03-14T09:00:00.000Z", // 05:00 EDT
    ]);
  });

  it("America/New_York fall back: a fixed hour runs once, at the first occurrence", () => {
    // Sun 2027-11-07 02:00 EDT (06:00Z) -> 01:00 EST. 01:30 happens at 05:30Z (EDT) and 06:30Z (EST).
    expect(runs("30 1 * * *", "America/New_York", "2027-11-06T00:00:00.000Z", 3)).toEqual([
      "2027-11-06T05:30:00.000Z", // 01:30 EDT
      "2027-11-07T05:30:00.000Z", // 01:30 EDT, first occurrence only
      "2027-11-08T06:30:00.000Z", // 01:30 EST
    ]);
    // Between the two occurrences, the second one is not a fire time.
    for (const after of ["2027-11-07T05:30:00.000Z", "2027-11-07T06:00:00.000Z", "2027-11-07T06:29:59.999Z"]) {
      expect(nextRunAfter("30 1 * * *", "America/New_York", new Date(after))?.toISOString(), after).toBe(
        "2027-11-08T06:30:00.000Z",
      );
    }
  });

  it("America/New_York fall back: hour * runs every real hour, both 01:00s included", () => {
    expect(runs("0 * * * *", "America/New_York", "2027-11-07T03:30:00.000Z", 5)).toEqual([
      "2027-11-07T04:00:00.000Z", // 00:00 EDT
      "2027-11-07T05:00:00.000Z", // 01:00 EDT
      "2027-11-07T06:00:00.000Z", // 01:00 EST
      "2027-11-07T07:00:00.000Z", // 02:00 EST
      "2027-11-07T08:00:00.000Z", // 03:00 EST
    ]);
    expect(runs("30 * * * *", "America/New_York", "2027-11-07T04:45:00.000Z", 3)).toEqual([
      "2027-11-07T05:30:00.000Z", // 01:30 EDT
      "2027-11-07T06:30:00.000Z", // 01:30 EST
      "2027-11-07T07:30:00.000Z", // 02:30 EST
    ]);
  });

  it("Europe/Berlin spring forward: 02:30 on 2027-03-28 fires at 03:00 CEST", () => {
    // Last Sunday of March, 02:00 CET (01:00Z) -> 03:00 CEST.
    expect(runs("30 2 * * *", "Europe/Berlin", "2027-03-26T12:00:00.000Z", 3)).toEqual([
      "2027-03-27T01:30:00.000Z", // 02:30 CET
      "2027-03-28T01:00:00.000Z", // 03:00 CEST, first instant after the gap
      "2027-03-29T00:30:00.000Z", // 02:30 CEST
    ]);
    expect(runs("0 * * * *", "Europe/Berlin", "2027-03-27T23:30:00.000Z", 3)).toEqual([
      "2027-03-28T00:00:00.000Z", // 01:00 CET
      "2027-03-28T01:00:00.000Z", // 03:00 CEST
      "2027-03-28T02:00:00.000Z", // 04:00 CEST
    ]);
  });

  it("Europe/Berlin fall back: 02:30 on 2027-10-31 fires once (CEST); hour * fires both 02:00s", () => {
    // Last Sunday of October, 03:00 CEST (01:00Z) -> 02:00 CET. 02:30 happens at 00:30Z and 01:30Z.
    expect(runs("30 2 * * *", "Europe/Berlin", "2027-10-29T12:00:00.000Z", 3)).toEqual([
      "2027-10-30T00:30:00.000Z", // 02:30 CEST
      "2027-10-31T00:30:00.000Z", // 02:30 CEST, first occurrence only
      "2027-11-01T01:30:00.000Z", // 02:30 CET
    ]);
    expect(runs("0 * * * *", "Europe/Berlin", "2027-10-30T23:30:00.000Z", 3)).toEqual([
      "2027-10-31T00:00:00.000Z", // 02:00 CEST
      "2027-10-31T01:00:00.000Z", // 02:00 CET
      "2027-10-31T02:00:00.000Z", // 03:00 CET
    ]);
  });

  it("Australia/Lord_Howe spring forward (30 min): 02:15, inside the gap, fires at 02:30 +11", () => {
    // First Sunday of October, 2027-10-03 02:00 +10:30 (2027-10-02T15:30Z) -> 02:30 +11:00.
    expect(runs("15 2 * * *", "Australia/Lord_Howe", "2027-10-01T00:00:00.000Z", 3)).toEqual([
      "2027-10-01T15:45:00.000Z", // 10-02 02:15 +10:30
      "2027-10-02T15:30:00.000Z", // 10-03 02:30 +11:00, first instant after the gap
      "2027-10-03T15:15:00.000Z", // 10-04 02:15 +11:00
    ]);
    // Every real quarter-hour: wall 02:00 and 02:15 are skipped, nothing is doubled.
    expect(runs("*/15 * * * *", "Australia/Lord_Howe", "2027-10-02T15:00:00.000Z", 4)).toEqual([
      "2027-10-02T15:15:00.000Z", // 01:45 +10:30
      "2027-10-02T15:30:00.000Z", // 02:30 +11:00
      "2027-10-02T15:45:00.000Z", // 02:45 +11:00
      "2027-10-02T16:00:00.000Z", // 03:00 +11:00
    ]);
  });

  it("Australia/Lord_Howe fall back (30 min): 01:45, inside the repeated half hour, fires once", () => {
    // First Sunday of April, 2027-04-04 02:00 +11:00 (2027-04-03T15:00Z) -> 01:30 +10:30.
    // 01:45 happens at 14:45Z (+11) and 15:15Z (+10:30).
    expect(runs("45 1 * * *", "Australia/Lord_Howe", "2027-04-02T00:00:00.000Z", 3)).toEqual([
      "2027-04-02T14:45:00.000Z", // 04-03 01:45 +11:00
      "2027-04-03T14:45:00.000Z", // 04-04 01:45 +11:00, first occurrence only
      "2027-04-04T15:15:00.000Z", // 04-05 01:45 +10:30
    ]);
    // 01:15 is before the repeated half hour, so it happens once, at +11:00.
    expect(runs("15 1 * * *", "Australia/Lord_Howe", "2027-04-03T00:00:00.000Z", 2)).toEqual([
      "2027-04-03T14:15:00.000Z",
      "2027-04-04T14:45:00.000Z",
    ]);
    // Hour *: every real quarter-hour, the repeated 01:30 and 01:45 included.
    expect(runs("*/15 * * * *", "Australia/Lord_Howe", "2027-04-03T14:20:00.000Z", 5)).toEqual([
      "2027-04-03T14:30:00.000Z", // 01:30 +11:00
      "2027-04-03T14:45:00.000Z", // 01:45 +11:00
      "2027-04-03T15:00:00.000Z", // 01:30 +10:30
      "2027-04-03T15:15:00.000Z", // 01:45 +10:30
      "2027-04-03T15:30:00.000Z", // 02:00 +10:30
    ]);
  });

  it("Asia/Kolkata (+05:30, no DST) is unaffected on the US and European transition days", () => {
    expect(runs("0 9 * * *", "Asia/Kolkata", "2027-03-13T00:00:00.000Z", 3)).toEqual([
      "2027-03-13T03:30:00.000Z",
      "2027-03-14T03:30:00.000Z",
      "2027-03-15T03:30:00.000Z",
    ]);
    expect(runs("30 2 * * *", "Asia/Kolkata", "2027-10-30T00:00:00.000Z", 3)).toEqual([
      "2027-10-30T21:00:00.000Z",
      "2027-10-31T21:00:00.000Z",
      "2027-11-01T21:00:00.000Z",
    ]);
    expect(nextRunAfter("30 2 14 3 *", "Asia/Kolkata", new Date("2027-03-01T00:00:00.000Z"))?.toISOString()).toBe(
      "2027-03-13T21:00:00.000Z",
    );
  });

  it("the same expression in different zones gives different instants; UTC is the default reading", () => {
    const after = new Date("2027-06-15T00:00:00.000Z");
    expect(nextRunAfter("0 2 * * *", "UTC", after)?.toISOString()).toBe("2027-06-15T02:00:00.000Z");
    expect(nextRunAfter("0 2 * * *", "America/New_York", after)?.toISOString()).toBe("2027-06-15T06:00:00.000Z");
    expect(nextRunAfter("0 2 * * *", "Europe/Berlin", after)?.toISOString()).toBe("2027-06-16T00:00:00.000Z");
    expect(nextRunAfter("0 2 * * *", "Australia/Lord_Howe", after)?.toISOString()).toBe("2027-06-15T15:30:00.000Z");
  });
});

describe("time zone names", () => {
  it("refuses offsets, which have no DST rules, and spells zones canonically", () => {
    expect(canonicalTimeZone("+05:30")).toBeNull();
    expect(canonicalTimeZone("-0800")).toBeNull();
    expect(canonicalTimeZone("Mars/Olympus_Mons")).toBeNull();
    expect(canonicalTimeZone("america/new_york")).toBe("America/New_York");
    expect(canonicalTimeZone("UTC")).toBe("UTC");
  });
});
