// explainSchedule: a schedule in plain English, from the parsed bit sets (so `*/15`, `0-59/15` and
// `0,15,30,45` read the same): "at 02:30 every day (Europe/Paris)", "every 1h30m0s",
// "at minute 0 past every 2nd hour on Mondays".

import {
  andList,
  DAY_NAMES,
  MONTH_NAMES,
  neverFiresReason,
  ordinal,
  progression,
  ranges,
  values,
} from "./describe.ts";
import { formatGoDuration } from "./go-duration.ts";
import { parseDetailed } from "./parser.ts";
import { ConstantDelaySchedule, type SpecFields, type SpecSchedule } from "./spec.ts";

const pad = (n: number): string => String(n).padStart(2, "0");

/** Plain-English meaning of `expression`; for an invalid one, `invalid schedule: <robfig's message>`. */
export function explainSchedule(expression: string): string {
  const r = parseDetailed(expression);
  if (!r.ok) return `invalid schedule: ${r.error}`;
  const p = r.parsed;
  if (p.schedule instanceof ConstantDelaySchedule) {
    return `every ${formatGoDuration(p.schedule.delayNanos)}`;
  }
  const s = p.schedule as SpecSchedule;
  const f = s.fields;
  const why = neverFiresReason(f, p.fieldTexts);
  const zone = s.location === "UTC" ? "" : ` (${s.location})`;
  const time = timePart(f);
  let days = dayPart(f);
  // "every minute every day" says nothing more than "every minute"; "at 02:30 every day" does.
  if (days === "every day" && !/^at \d/.test(time)) days = "";
  const text = `${time}${days === "" ? "" : ` ${days}`}${monthPart(f)}${zone}`;
  return why === undefined ? text : `${text}; never fires: ${why}`;
}

function hourList(hours: readonly number[]): string {
  if (hours.length === 24) return "every hour";
  const step = progression(hours, 23);
  if (step !== undefined) {
    return `every ${ordinal(step)} hour${hours[0] === 0 ? "" : ` from ${pad(hours[0] as number)}:00`}`;
  }
  return `${hours.length === 1 ? "hour" : "hours"} ${andList(ranges(hours, String, " through "))}`;
}

function timePart(f: SpecFields): string {
  const minutes = values(f.minute, 0, 59);
  const hours = values(f.hour, 0, 23);
  if (minutes.length === 0 || hours.length === 0) return "at no time";
  if (minutes.length === 60) {
    if (hours.length === 24) return "every minute";
    return `every minute of ${hourList(hours)}`;
  }
  if (minutes.length * hours.length <= 4) {
    const times: string[] = [];
    for (const h of hours) for (const m of minutes) times.push(`${pad(h)}:${pad(m)}`);
    return `at ${andList(times)}`;
  }
  const step = progression(minutes, 59);
  if (step !== undefined && minutes[0] === 0 && 60 % step === 0) {
    return `every ${step} minutes${hours.length === 24 ? "" : ` during ${hourList(hours)}`}`;
  }
  const minuteText =
    step !== undefined && minutes.length > 4
      ? `every ${ordinal(step)} minute${minutes[0] === 0 ? "" : ` from minute ${minutes[0]}`}`
      : `${minutes.length === 1 ? "minute" : "minutes"} ${andList(ranges(minutes, String, " through "))}`;
  return `at ${minuteText} past ${hourList(hours)}`;
}

function weekdays(dows: readonly number[]): string {
  if (dows.length >= 3 && ranges(dows, String).length === 1) {
    return `${DAY_NAMES[dows[0] as number]} through ${DAY_NAMES[dows[dows.length - 1] as number]}`;
  }
  return andList(dows.map((d) => `${DAY_NAMES[d]}s`));
}

function monthDays(doms: readonly number[]): string {
  const step = progression(doms, 31);
  if (step !== undefined && doms[0] === 1) return `every ${ordinal(step)} day of the month`;
  return `${doms.length === 1 ? "day" : "days"} ${andList(ranges(doms, String, " through "))} of the month`;
}

function dayPart(f: SpecFields): string {
  const doms = values(f.dom, 1, 31);
  const dows = values(f.dow, 0, 6);
  const months = values(f.month, 1, 12);
  const and = f.dom.star || f.dow.star;
  const allDom = doms.length === 31;
  const allDow = dows.length === 7;
  if (and) {
    if (allDom && allDow) return "every day";
    if (allDom) return dows.length === 0 ? "on no day" : `on ${weekdays(dows)}`;
    if (doms.length === 1 && months.length === 1) return `on ${doms[0]} ${MONTH_NAMES[months[0] as number]}`;
    return doms.length === 0 ? "on no day" : `on ${monthDays(doms)}`;
  }
  // OR: either field matching is enough.
  if (allDom || allDow) return "every day";
  const parts: string[] = [];
  if (doms.length > 0) parts.push(monthDays(doms));
  if (dows.length > 0) parts.push(weekdays(dows));
  return parts.length === 0 ? "on no day" : `on ${parts.join(" or on ")}`;
}

function monthPart(f: SpecFields): string {
  const months = values(f.month, 1, 12);
  if (months.length === 12) return "";
  const doms = values(f.dom, 1, 31);
  // "on 1 January" already named the month.
  if ((f.dom.star || f.dow.star) && doms.length === 1 && months.length === 1 && !f.dom.star) return "";
  if (months.length === 0) return " in no month";
  const step = progression(months, 12);
  if (step !== undefined && months[0] === 1) return ` in every ${ordinal(step)} month`;
  return ` in ${andList(ranges(months, (m) => MONTH_NAMES[m] as string, " through "))}`;
}
