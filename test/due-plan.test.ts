import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { nextRunAfter } from "../src/cron/schedule";
import { type DuePlan, type DuePolicy, ON_TIME_GRACE_MS, planDue } from "../src/scheduler/due-plan";
import { DEFAULT_FIRE_LEAD_MS, fireLeadMs } from "../src/scheduler/fire-lead";

/**
 * planDue: what an alarm does when a job's stored next instant has come
 * (issue 3, "Missed runs"). Every case gives the stored instant and `now` explicitly.
 */

function policy(overrides: Partial<DuePolicy> = {}): DuePolicy {
  return { cronExpression: "0 * * * *", timezone: "UTC", misfirePolicy: "run_once", catchupWindowSeconds: 86_400, ...overrides };
}

const at = (iso: string) => new Date(iso);
const plus = (date: Date, ms: number) => new Date(date.getTime() + ms);

/** Every plan's `next` is strictly after `now`: an alarm never re-arms into the past. */
function plan(p: DuePolicy, nextRunAt: Date, now: Date): DuePlan {
  const result = planDue(p, nextRunAt, now);
  expect(result.next).not.toBeNull();
  expect(result.next!.getTime()).toBeGreaterThan(now.getTime());
  expect(result.next).toEqual(nextRunAfter(p.cronExpression, p.timezone, now));
  return result;
}

describe("planDue: on time", () => {
  it("grace is 60 s", () => {
    expect(ON_TIME_GRACE_MS).toBe(60_000);
  });

  it("an alarm 10 ms after the instant runs it, not as a catch-up, and arms the following instant", () => {
    const due = at("2027-06-15T10:00:00.000Z");
    expect(plan(policy(), due, plus(due, 10))).toEqual({
      run: { scheduledFor: due, catchUp: false },
      skipped: null,
      missed: 0,
      next: at("2027-06-15T11:00:00.000Z"),
    });
  });

  it("an alarm exactly at the instant runs it", () => {
    const due = at("2027-06-15T10:00:00.000Z");
    expect(plan(policy({ cronExpression: "* * * * *" }), due, due)).toEqual({
      run: { scheduledFor: due, catchUp: false },
      skipped: null,
      missed: 0,
      next: at("2027-06-15T10:01:00.000Z"),
    });
  });

  it("late within the 60 s grace is still on time, under either misfire policy", () => {
    const due = at("2027-06-15T10:00:00.000Z");
    for (const misfirePolicy of ["run_once", "skip"] as const) {
      for (const lateMs of [1_000, 59_999, 60_000]) {
        expect(plan(policy({ misfirePolicy, catchupWindowSeconds: 0 }), due, plus(due, lateMs)), `${misfirePolicy} +${lateMs}ms`).toEqual({
          run: { scheduledFor: due, catchUp: false },
          skipped: null,
          missed: 0,
          next: at("2027-06-15T11:00:00.000Z"),
        });
      }
    }
  });

  it("1 ms beyond the grace is a missed instant: run_once catches it up", () => {
    const due = at("2027-06-15T10:00:00.000Z");
    expect(plan(policy(), due, plus(due, 60_001))).toEqual({
      run: { scheduledFor: due, catchUp: true },
      skipped: null,
      missed: 1,
      next: at("2027-06-15T11:00:00.000Z"),
    });
  });

  it("1 ms beyond the grace is a missed instant: skip records it as skipped", () => {
    const due = at("2027-06-15T10:00:00.000Z");
    const result = plan(policy({ misfirePolicy: "skip" }), due, plus(due, 60_001));
    expect(result.run).toBeNull();
    expect(result.skipped?.scheduledFor).toEqual(due);
    expect(result.skipped?.reason).toBe('missed 1 scheduled instant(s), the latest 60s ago; misfire_policy is "skip"');
    expect(result.missed).toBe(1);
  });

  it("an alarm that fires again for the same instant plans the same scheduled instant (the run key)", () => {
    const due = at("2027-06-15T10:00:00.000Z");
    const first = plan(policy(), due, plus(due, 10));
    const retry = plan(policy(), due, plus(due, 2_500));
    expect(retry.run?.scheduledFor).toEqual(first.run?.scheduledFor);
    expect(retry.next).toEqual(first.next);
  });
});

describe("planDue: an alarm that fires early", () => {
  it("does nothing and re-arms the stored instant", () => {
    const due = at("2027-06-15T10:00:00.000Z");
    for (const earlyMs of [1, 10, 30_000]) {
      expect(plan(policy(), due, plus(due, -earlyMs)), `-${earlyMs}ms`).toEqual({
        run: null,
        skipped: null,
        missed: 0,
        next: due,
      });
    }
  });

  it("does nothing under skip either", () => {
    const due = at("2027-06-15T10:00:00.000Z");
    expect(plan(policy({ misfirePolicy: "skip" }), due, plus(due, -1))).toEqual({
      run: null,
      skipped: null,
      missed: 0,
      next: due,
    });
  });
});

describe("planDue: missed instants", () => {
  it("two missed instants, restart within grace of the latest: one run flagged catchUp (run_once)", () => {
    // `* * * * *` stored for 10:00; the service was down for 10:00 and 10:01, back at 10:02:00.500.
    const p = policy({ cronExpression: "* * * * *" });
    expect(plan(p, at("2027-06-15T10:00:00.000Z"), at("2027-06-15T10:02:00.500Z"))).toEqual({
      run: { scheduledFor: at("2027-06-15T10:02:00.000Z"), catchUp: true },
      skipped: null,
      missed: 2,
      next: at("2027-06-15T10:03:00.000Z"),
    });
  });

  it("two missed instants, restart within grace of the latest: the on-time run is not flagged under skip", () => {
    const p = policy({ cronExpression: "* * * * *", misfirePolicy: "skip" });
    expect(plan(p, at("2027-06-15T10:00:00.000Z"), at("2027-06-15T10:02:00.500Z"))).toEqual({
      run: { scheduledFor: at("2027-06-15T10:02:00.000Z"), catchUp: false },
      skipped: null,
      missed: 2,
      next: at("2027-06-15T10:03:00.000Z"),
    });
  });

  it("down for 3 hours with `* * * * *`: exactly one run, the latest instant, and next in the future (no storm)", () => {
    const storedNext = at("2027-06-15T10:00:00.000Z");
    const now = at("2027-06-15T13:00:30.000Z");
    const result = plan(policy({ cronExpression: "* * * * *" }), storedNext, now);
    // 10:00 .. 13:00 is 181 instants; 13:00 runs (covering the rest). Missed instants are
    // counted up to 100 (the count is only reported), so 100 - 1 = 99 are reported missed.
    expect(result).toEqual({
      run: { scheduledFor: at("2027-06-15T13:00:00.000Z"), catchUp: true },
      skipped: null,
      missed: 99,
      next: at("2027-06-15T13:01:00.000Z"),
    });
  });

  it("down for 3.5 hours with an hourly job: one catch-up run for the latest missed instant", () => {
    expect(plan(policy(), at("2027-06-15T10:00:00.000Z"), at("2027-06-15T13:30:00.000Z"))).toEqual({
      run: { scheduledFor: at("2027-06-15T13:00:00.000Z"), catchUp: true },
      skipped: null,
      missed: 4,
      next: at("2027-06-15T14:00:00.000Z"),
    });
  });

  it("down for a year with `* * * * *`: still one run, and next is the following minute", () => {
    const now = at("2028-06-15T10:00:20.000Z");
    const result = plan(policy({ cronExpression: "* * * * *" }), at("2027-06-15T10:00:00.000Z"), now);
    expect(result.run).toEqual({ scheduledFor: at("2028-06-15T10:00:00.000Z"), catchUp: true });
    expect(result.skipped).toBeNull();
    expect(result.next).toEqual(at("2028-06-15T10:01:00.000Z"));
  });

  it("misfire_policy skip with nothing on time: no run, the latest instant skipped with a reason naming the policy", () => {
    const result = plan(policy({ misfirePolicy: "skip" }), at("2027-06-15T10:00:00.000Z"), at("2027-06-15T12:30:00.000Z"));
    expect(result).toEqual({
      run: null,
      skipped: {
        scheduledFor: at("2027-06-15T12:00:00.000Z"),
        reason: 'missed 3 scheduled instant(s), the latest 1800s ago; misfire_policy is "skip"',
      },
      missed: 3,
      next: at("2027-06-15T13:00:00.000Z"),
    });
    expect(result.skipped?.reason).toContain("misfire_policy");
  });

  it("run_once beyond catchup_window_seconds: no run, skipped with a reason naming the window", () => {
    // Daily at 02:00, back at 05:00: the 02:00 instant is 10800 s old, the window is 3600 s.
    const p = policy({ cronExpression: "0 2 * * *", catchupWindowSeconds: 3_600 });
    const result = plan(p, at("2027-06-15T02:00:00.000Z"), at("2027-06-15T05:00:00.000Z"));
    expect(result).toEqual({
      run: null,
      skipped: {
        scheduledFor: at("2027-06-15T02:00:00.000Z"),
        reason: "missed 1 scheduled instant(s), the latest 10800s ago, beyond catchup_window_seconds=3600",
      },
      missed: 1,
      next: at("2027-06-16T02:00:00.000Z"),
    });
    expect(result.skipped?.reason).toContain("catchup_window_seconds");
  });

  it("run_once at the window's edge: exactly the window catches up, one second more does not", () => {
    const p = policy({ cronExpression: "0 2 * * *", catchupWindowSeconds: 3_600 });
    const due = at("2027-06-15T02:00:00.000Z");
    expect(plan(p, due, at("2027-06-15T02:59:59.000Z")).run).toEqual({ scheduledFor: due, catchUp: true });
    expect(plan(p, due, at("2027-06-15T03:00:00.000Z")).run).toEqual({ scheduledFor: due, catchUp: true });
    const beyond = plan(p, due, at("2027-06-15T03:00:01.000Z"));
    expect(beyond.run).toBeNull();
    expect(beyond.skipped?.reason).toBe(
      "missed 1 scheduled instant(s), the latest 3601s ago, beyond catchup_window_seconds=3600",
    );
  });

  it("the default window (86400 s) is measured from the latest missed instant, not the first", () => {
    // Daily at 02:00, down from 06-13 to 06-15 03:00: three instants missed, the latest 1 h ago.
    expect(plan(policy({ cronExpression: "0 2 * * *" }), at("2027-06-13T02:00:00.000Z"), at("2027-06-15T03:00:00.000Z"))).toEqual({
      run: { scheduledFor: at("2027-06-15T02:00:00.000Z"), catchUp: true },
      skipped: null,
      missed: 3,
      next: at("2027-06-16T02:00:00.000Z"),
    });
    // Weekly on Mondays at 02:00: one second past a day late is beyond the default window.
    const weekly = plan(policy({ cronExpression: "0 2 * * 1" }), at("2027-06-14T02:00:00.000Z"), at("2027-06-15T02:00:01.000Z"));
    expect(weekly.run).toBeNull();
    expect(weekly.skipped).toEqual({
      scheduledFor: at("2027-06-14T02:00:00.000Z"),
      reason: "missed 1 scheduled instant(s), the latest 86401s ago, beyond catchup_window_seconds=86400",
    });
    expect(weekly.next).toEqual(at("2027-06-21T02:00:00.000Z"));
  });

  it("catchup window 0: anything beyond the grace is skipped, naming the window", () => {
    const p = policy({ catchupWindowSeconds: 0 });
    const result = plan(p, at("2027-06-15T10:00:00.000Z"), at("2027-06-15T10:05:00.000Z"));
    expect(result).toEqual({
      run: null,
      skipped: {
        scheduledFor: at("2027-06-15T10:00:00.000Z"),
        reason: "missed 1 scheduled instant(s), the latest 300s ago, beyond catchup_window_seconds=0",
      },
      missed: 1,
      next: at("2027-06-15T11:00:00.000Z"),
    });
  });

  it("catchup window 0 does not stop an on-time run", () => {
    const p = policy({ catchupWindowSeconds: 0 });
    const due = at("2027-06-15T10:00:00.000Z");
    expect(plan(p, due, plus(due, 10)).run).toEqual({ scheduledFor: due, catchUp: false });
    // After an outage, the instant inside the grace still runs (covering those missed before it).
    const after = plan(policy({ cronExpression: "* * * * *", catchupWindowSeconds: 0 }), due, at("2027-06-15T10:02:00.500Z"));
    expect(after.run?.scheduledFor).toEqual(at("2027-06-15T10:02:00.000Z"));
    expect(after.skipped).toBeNull();
    expect(after.missed).toBe(2);
  });
});

describe("planDue: DST in a named zone", () => {
  it("America/New_York fall back: the 01:30 run at 05:30Z arms the next day's 06:30Z, not today's second 01:30", () => {
    const p = policy({ cronExpression: "30 1 * * *", timezone: "America/New_York" });
    const due = at("2027-11-07T05:30:00.000Z");
    expect(plan(p, due, plus(due, 10))).toEqual({
      run: { scheduledFor: due, catchUp: false },
      skipped: null,
      missed: 0,
      next: at("2027-11-08T06:30:00.000Z"),
    });
    // An alarm left over for 06:30Z (the repeated 01:30) finds nothing due and re-arms the next day.
    expect(plan(p, at("2027-11-07T06:30:00.000Z"), at("2027-11-07T06:30:00.010Z"))).toEqual({
      run: null,
      skipped: null,
      missed: 0,
      next: at("2027-11-08T06:30:00.000Z"),
    });
  });

  it("America/New_York fall back: hour * runs at both 01:00s", () => {
    const p = policy({ cronExpression: "0 * * * *", timezone: "America/New_York" });
    const first = plan(p, at("2027-11-07T05:00:00.000Z"), at("2027-11-07T05:00:00.010Z"));
    expect(first.run).toEqual({ scheduledFor: at("2027-11-07T05:00:00.000Z"), catchUp: false });
    expect(first.next).toEqual(at("2027-11-07T06:00:00.000Z"));
    const second = plan(p, first.next!, plus(first.next!, 10));
    expect(second.run).toEqual({ scheduledFor: at("2027-11-07T06:00:00.000Z"), catchUp: false });
    expect(second.next).toEqual(at("2027-11-07T07:00:00.000Z"));
  });

  it("America/New_York spring forward: `30 2 14 3 *` runs at 07:00Z and arms next year", () => {
    const p = policy({ cronExpression: "30 2 14 3 *", timezone: "America/New_York" });
    const due = at("2027-03-14T07:00:00.000Z");
    expect(plan(p, due, plus(due, 10))).toEqual({
      run: { scheduledFor: due, catchUp: false },
      skipped: null,
      missed: 0,
      next: at("2028-03-14T06:30:00.000Z"),
    });
  });

  it("Australia/Lord_Howe fall back: 01:45 inside the repeated half hour runs once", () => {
    const p = policy({ cronExpression: "45 1 * * *", timezone: "Australia/Lord_Howe" });
    const due = at("2027-04-03T14:45:00.000Z"); // 04-04 01:45 +11:00
    const result = plan(p, due, plus(due, 10));
    expect(result.run).toEqual({ scheduledFor: due, catchUp: false });
    expect(result.next).toEqual(at("2027-04-04T15:15:00.000Z")); // 04-05 01:45 +10:30
  });
});

describe("planDue: invariants over arbitrary delays", () => {
  it("at most one run, never before the stored instant nor after now; next strictly after now", () => {
    const expressions = ["* * * * *", "*/7 * * * *", "0 * * * *", "30 2 * * *", "0 2 * * 1"];
    const zones = ["UTC", "America/New_York", "Australia/Lord_Howe"];
    fc.assert(
      fc.property(
        fc.constantFrom(...expressions),
        fc.constantFrom(...zones),
        fc.constantFrom("run_once" as const, "skip" as const),
        fc.constantFrom(0, 60, 3_600, 86_400),
        // A stored instant somewhere in 2027, including both US transitions.
        fc.integer({ min: Date.UTC(2027, 0, 1), max: Date.UTC(2027, 11, 1) }),
        // Alarm from 2 minutes early to 3 days late (past the default 1-day window).
        fc.integer({ min: -120_000, max: 3 * 86_400_000 }),
        (expression, timezone, misfirePolicy, catchupWindowSeconds, storedMs, delayMs) => {
          const p: DuePolicy = { cronExpression: expression, timezone, misfirePolicy, catchupWindowSeconds };
          const nextRunAt = nextRunAfter(expression, timezone, new Date(storedMs))!;
          const now = new Date(nextRunAt.getTime() + delayMs);
          const result = planDue(p, nextRunAt, now);
          expect(result.next!.getTime()).toBeGreaterThan(now.getTime());
          expect(result.run !== null && result.skipped !== null).toBe(false);
          const decided = result.run?.scheduledFor ?? result.skipped?.scheduledFor;
          if (delayMs < 0) {
            expect(decided).toBeUndefined();
            expect(result.missed).toBe(0);
            return;
          }
          // Something was due, so exactly one of run / skipped is set, for the latest due instant.
          expect(decided).toBeDefined();
          expect(decided!.getTime()).toBeGreaterThanOrEqual(nextRunAt.getTime());
          expect(decided!.getTime()).toBeLessThanOrEqual(now.getTime());
          expect(nextRunAfter(expression, timezone, decided!)!.getTime()).toBeGreaterThan(now.getTime());
          const onTime = now.getTime() - decided!.getTime() <= ON_TIME_GRACE_MS;
          if (onTime) expect(result.run?.scheduledFor).toEqual(decided);
          if (result.run && !onTime) expect(misfirePolicy).toBe("run_once");
          if (result.run?.catchUp) expect(misfirePolicy).toBe("run_once");
        },
      ),
      { seed: 20270314, numRuns: 200 },
    );
  });
});

describe("the catch-up window is exact to the millisecond", () => {
  it("an instant 3600.4 s old is outside a 3600 s window", () => {
    const p = { cronExpression: "0 2 * * *", timezone: "UTC", misfirePolicy: "run_once" as const, catchupWindowSeconds: 3600 };
    const result = planDue(p, new Date("2027-06-15T02:00:00.000Z"), new Date("2027-06-15T03:00:00.400Z"));
    expect(result.run).toBeNull();
    expect(result.skipped?.reason).toMatch(/catchup_window_seconds=3600/);
    expect(planDue(p, new Date("2027-06-15T02:00:00.000Z"), new Date("2027-06-15T03:00:00.000Z")).run).toEqual({
      scheduledFor: new Date("2027-06-15T02:00:00.000Z"),
      catchUp: true,
    });
  });
});

describe("FIRE_LEAD_MS", () => {
  it("takes an integer from 0 to 10000; unset, empty or anything else gives the default", () => {
    expect(fireLeadMs("0")).toBe(0);
    expect(fireLeadMs("2500")).toBe(2500);
    expect(fireLeadMs("10000")).toBe(10_000);
    for (const raw of [undefined, "", " ", "10001", "-1", "1.5", "1s", "abc"]) expect(fireLeadMs(raw)).toBe(DEFAULT_FIRE_LEAD_MS);
    expect(DEFAULT_FIRE_LEAD_MS).toBe(1000);
  });
});
