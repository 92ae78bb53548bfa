// checkSchedule: every problem with a schedule at once — robfig's own rejection (verbatim), the inputs
// that make robfig panic, schedules that can never fire, and warnings for accepted-but-odd spellings
// whose meaning surprises (each names the clearer spelling).

import { error, type Problem, warning } from "../problem.ts";
import {
  andList,
  DAY_NAMES,
  FIELD_NAMES,
  MAX_DAYS,
  MONTH_NAMES,
  neverFiresReason,
  ranges,
  values,
} from "./describe.ts";
import { formatGoDuration } from "./go-duration.ts";
import { splitCommas } from "./go-strings.ts";
import { type ParsedSpec, parseDetailed } from "./parser.ts";
import { ConstantDelaySchedule, type SpecFields, type SpecSchedule } from "./spec.ts";

/** Every code this module emits, with its severity and meaning (the README renders rule codes). */
export const SCHEDULE_CODES = {
  "schedule.invalid": { severity: "error", description: "robfig/cron v3 ParseStandard rejects the schedule" },
  "schedule.panics": {
    severity: "error",
    description:
      "the schedule makes robfig/cron panic (a TZ=/CRON_TZ= prefix with no space; robfig/cron#554)",
  },
  "schedule.never-fires": {
    severity: "error",
    description:
      "robfig accepts the schedule but no date and time matches it (`0 0 30 2 *`, a bare `,` field)",
  },
  "schedule.unusual-syntax": {
    severity: "warning",
    description: "accepted syntax with a clearer spelling: `?`, `+5`, `*-5`, empty list items",
  },
  "schedule.day-semantics": {
    severity: "warning",
    description:
      "day of month and day of week combine as OR (both restricted) or as AND (a starred `*/1`, `*,x`)",
  },
  "schedule.skips-months": {
    severity: "warning",
    description:
      "the day of month does not exist in some selected months (day 31 in April), which are skipped",
  },
  "schedule.every-rounded": {
    severity: "warning",
    description: "robfig runs `@every` below 1s every second and drops sub-second parts",
  },
  "schedule.every-unaligned": {
    severity: "warning",
    description:
      "`@every` with odd seconds: runs count from when the schedule is loaded, off the minute grid",
  },
  "schedule.zone": {
    severity: "warning",
    description: "a time zone prefix that means UTC or depends on the process (empty name, `Local`)",
  },
  "schedule.too-frequent": {
    severity: "warning",
    description: "the schedule fires more often than every 5 minutes",
  },
} as const satisfies Record<string, { severity: "error" | "warning"; description: string }>;

export type ScheduleCode = keyof typeof SCHEDULE_CODES;

/** Backups closer together than this are almost surely a mistake. */
const MIN_INTERVAL_MINUTES = 5;

/**
 * All problems with `expression` as a casskeeper backup schedule, each at `path`: robfig's error
 * message verbatim (`end of range (7) above maximum (6): 7`), a panic, never firing, and warnings.
 */
export function checkSchedule(expression: string, path: string): Problem[] {
  const r = parseDetailed(expression);
  if (!r.ok) return [error(path, r.panics === true ? "schedule.panics" : "schedule.invalid", r.error)];
  const p = r.parsed;
  const problems: Problem[] = [];
  const w = (code: ScheduleCode, message: string): void => {
    problems.push(warning(path, code, message));
  };
  checkZone(p, w);
  if (p.schedule instanceof ConstantDelaySchedule) {
    checkEvery(p, p.schedule, w);
    return problems;
  }
  const s = p.schedule as SpecSchedule;
  const why = neverFiresReason(s.fields, p.fieldTexts);
  if (why !== undefined) {
    return [error(path, "schedule.never-fires", `schedule never fires: ${why}`), ...problems];
  }
  if (p.fieldTexts !== undefined) {
    checkSyntax(p.fieldTexts, w);
    checkDays(s.fields, p.fieldTexts, w);
  }
  checkMonths(s.fields, w);
  const gap = minGapMinutes(s.fields);
  if (gap < MIN_INTERVAL_MINUTES) {
    w(
      "schedule.too-frequent",
      `runs as little as ${gap === 1 ? "1 minute" : `${gap} minutes`} apart: a backup more often than every ${MIN_INTERVAL_MINUTES} minutes is too frequent`,
    );
  }
  return problems;
}

type Warn = (code: ScheduleCode, message: string) => void;

function checkZone(p: ParsedSpec, w: Warn): void {
  if (p.prefix === undefined) return;
  if (p.zoneName === "") {
    w("schedule.zone", `an empty ${p.prefix} zone name means UTC: write ${p.prefix}UTC`);
  } else if (p.zoneName === "Local") {
    w(
      "schedule.zone",
      `${p.prefix}Local is the operator process's own zone: casskeeper's runner uses UTC, CassKop its pod's zone; name the zone (${p.prefix}UTC)`,
    );
  }
}

function checkEvery(p: ParsedSpec, s: ConstantDelaySchedule, w: Warn): void {
  const given = s.givenNanos;
  const text = p.body.slice("@every ".length);
  if (given < 1_000_000_000n) {
    w("schedule.every-rounded", `robfig runs "@every ${text}" every second: delays under 1s become 1s`);
  } else if (given % 1_000_000_000n !== 0n) {
    w(
      "schedule.every-rounded",
      `robfig drops the sub-second part of "@every ${text}": it runs every ${formatGoDuration(s.delayNanos)}`,
    );
  }
  const delay = s.delayNanos;
  if (delay % 60_000_000_000n !== 0n && delay >= 60_000_000_000n) {
    w(
      "schedule.every-unaligned",
      `"@every ${text}" runs every ${formatGoDuration(delay)} counted from when the schedule is loaded, so runs drift off whole minutes; use a cron spec for fixed times`,
    );
  }
  if (delay < BigInt(MIN_INTERVAL_MINUTES) * 60_000_000_000n) {
    w(
      "schedule.too-frequent",
      `fires every ${formatGoDuration(delay)}: a backup more often than every ${MIN_INTERVAL_MINUTES} minutes is too frequent`,
    );
  }
}

/** Accepted spellings that read as something else, per item of each field. */
function checkSyntax(texts: readonly string[], w: Warn): void {
  texts.forEach((text, i) => {
    const field = FIELD_NAMES[i] as string;
    const items = splitCommas(text);
    if (text.split(",").some((x) => x === "")) {
      const clean = items.join(",");
      w(
        "schedule.unusual-syntax",
        clean === ""
          ? `${field} ${JSON.stringify(text)} is only commas: robfig accepts it and selects nothing`
          : `${field} ${JSON.stringify(text)} has empty list items, which robfig skips: write ${JSON.stringify(clean)}`,
      );
    }
    for (const item of items) {
      const [range = "", step] = item.split("/");
      const [low = "", ...high] = range.split("-");
      if (low === "?" || (low === "*" && high.length > 0)) {
        const better = `*${step === undefined ? "" : `/${step}`}`;
        const why =
          low === "?"
            ? `robfig reads "?" as "*" in every field (robfig/cron#45)${high.length > 0 ? " and ignores the range end" : ""}`
            : `robfig ignores the range end after "*", so this is ${JSON.stringify(better)}`;
        w(
          "schedule.unusual-syntax",
          `${field} ${JSON.stringify(item)}: ${why}: write ${JSON.stringify(better)}`,
        );
      }
      const numbers = [low, ...high, ...(step === undefined ? [] : [step])].filter((t) => t.startsWith("+"));
      if (numbers.length > 0) {
        const better = item.replace(/\+/g, "");
        w(
          "schedule.unusual-syntax",
          `${field} ${JSON.stringify(item)}: robfig accepts a leading "+" on numbers: write ${JSON.stringify(better)}`,
        );
      }
    }
  });
}

const isPlainStar = (text: string): boolean => text === "*" || text === "?";

/** The day-of-month / day-of-week rule: AND when either has robfig's star flag, else OR. */
function checkDays(f: SpecFields, texts: readonly string[], w: Warn): void {
  const domText = texts[2] as string;
  const dowText = texts[4] as string;
  const doms = values(f.dom, 1, 31);
  const dows = values(f.dow, 0, 6);
  const dowRestricted = !f.dow.star && dows.length < 7;
  const domRestricted = !f.dom.star && doms.length < 31;
  if (f.dom.star && !isPlainStar(domText) && dowRestricted) {
    w(
      "schedule.day-semantics",
      `day of month ${JSON.stringify(domText)} carries robfig's "*" flag, so days must also match day of week ${JSON.stringify(dowText)} (AND): it runs only on ${andList(dows.map((d) => `${DAY_NAMES[d]}s`))}; write "*" to say so`,
    );
  } else if (f.dow.star && !isPlainStar(dowText) && domRestricted) {
    w(
      "schedule.day-semantics",
      `day of week ${JSON.stringify(dowText)} carries robfig's "*" flag, so days must also match day of month ${JSON.stringify(domText)} (AND); write "*" to say so`,
    );
  } else if (!f.dom.star && !f.dow.star && doms.length > 0 && dows.length > 0) {
    const every = doms.length === 31 ? `; ${JSON.stringify(domText)} covers every day, so it runs daily` : "";
    const allDow =
      dows.length === 7 ? `; ${JSON.stringify(dowText)} covers every weekday, so it runs daily` : "";
    w(
      "schedule.day-semantics",
      `both day of month ${JSON.stringify(domText)} and day of week ${JSON.stringify(dowText)} are restricted: robfig runs when EITHER matches (OR), not both${every || allDow}`,
    );
  }
}

/** Days of month that some selected months lack (day 31 in April) are skipped there, silently. */
function checkMonths(f: SpecFields, w: Warn): void {
  // Only when days come from day of month alone (AND with a full day of week).
  if (!f.dow.star || f.dom.star) return;
  const doms = values(f.dom, 1, 31);
  const months = values(f.month, 1, 12);
  const leapOnly = months.every((m) =>
    doms.every((d) => d > (MAX_DAYS[m] as number) || (m === 2 && d === 29)),
  );
  if (leapOnly) {
    w(
      "schedule.skips-months",
      "runs only on 29 February, in leap years; robfig looks 5 years ahead, which finds one except around 2100",
    );
    return;
  }
  const lacks = (m: number): boolean => doms.every((d) => d > (m === 2 ? 28 : (MAX_DAYS[m] as number)));
  const missing = months.filter(lacks);
  if (missing.length > 0) {
    const commonYearsOnly = missing.includes(2) && doms.includes(29) && missing.length === 1;
    w(
      "schedule.skips-months",
      `day ${andList(ranges(doms, String))} does not exist in ${andList(missing.map((m) => MONTH_NAMES[m] as string))}${commonYearsOnly ? " in common years" : ""}: robfig skips ${missing.length === 1 ? "that month" : "those months"}`,
    );
  }
}

/** The shortest gap between two fire times, in minutes, from the minute and hour sets. */
function minGapMinutes(f: SpecFields): number {
  const minutes = values(f.minute, 0, 59);
  const hours = values(f.hour, 0, 23);
  let gap = Number.POSITIVE_INFINITY;
  for (let i = 1; i < minutes.length; i++)
    gap = Math.min(gap, (minutes[i] as number) - (minutes[i - 1] as number));
  const consecutiveHours = hours.some((h) => f.hour.bits[(h + 1) % 24] === 1);
  if (consecutiveHours && minutes.length > 0) {
    gap = Math.min(gap, 60 - (minutes[minutes.length - 1] as number) + (minutes[0] as number));
  }
  return gap;
}
