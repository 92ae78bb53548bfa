// Shared wording for checks and explanations: field names, value lists, and why a spec cannot fire.

import type { FieldBits, SpecFields } from "./spec.ts";

export const FIELD_NAMES = ["minute", "hour", "day of month", "month", "day of week"] as const;

export const MONTH_NAMES = [
  "",
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];
export const DAY_NAMES = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
/** Days in each month (index 1–12) in a leap year. */
export const MAX_DAYS = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function values(f: FieldBits, min: number, max: number): number[] {
  const out: number[] = [];
  for (let i = min; i <= max; i++) if (f.bits[i] === 1) out.push(i);
  return out;
}

/** "a", "a and b", "a, b and c". */
export function andList(items: readonly string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

export function ordinal(n: number): string {
  const t = n % 100;
  if (t >= 11 && t <= 13) return `${n}th`;
  return `${n}${["th", "st", "nd", "rd"][n % 10] ?? "th"}`;
}

/** Runs of consecutive values: [1,2,3,5] → ["1-3", "5"] via `name`; runs of two are listed singly. */
export function ranges(vals: readonly number[], name: (v: number) => string, through = "-"): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < vals.length) {
    let j = i;
    while (j + 1 < vals.length && (vals[j + 1] as number) === (vals[j] as number) + 1) j++;
    const a = vals[i] as number;
    const b = vals[j] as number;
    if (j - i >= 2) out.push(`${name(a)}${through}${name(b)}`);
    else for (let k = i; k <= j; k++) out.push(name(vals[k] as number));
    i = j + 1;
  }
  return out;
}

/** The step s when vals is start, start+s, … up to the last value before max, with s > 1 and ≥ 2 values. */
export function progression(vals: readonly number[], max: number): number | undefined {
  if (vals.length < 2) return undefined;
  const s = (vals[1] as number) - (vals[0] as number);
  if (s < 2) return undefined;
  for (let i = 2; i < vals.length; i++)
    if ((vals[i] as number) - (vals[i - 1] as number) !== s) return undefined;
  return (vals[vals.length - 1] as number) + s > max ? s : undefined;
}

/**
 * Why no instant matches the fields (see spec.ts canEverFire), or undefined when one does. Field texts,
 * when known, are quoted so the user finds the culprit.
 */
export function neverFiresReason(f: SpecFields, texts: readonly string[] | undefined): string | undefined {
  const quoted = (i: number): string => (texts === undefined ? "" : ` ${JSON.stringify(texts[i])}`);
  const order: [FieldBits, number, number][] = [
    [f.minute, 0, 59],
    [f.hour, 0, 23],
    [f.dom, 1, 31],
    [f.month, 1, 12],
    [f.dow, 0, 6],
  ];
  const and = f.dom.star || f.dow.star;
  for (const i of [0, 1, 3]) {
    const [bits, min, max] = order[i] as [FieldBits, number, number];
    if (values(bits, min, max).length === 0)
      return `the ${FIELD_NAMES[i]} field${quoted(i)} selects no values`;
  }
  const doms = values(f.dom, 1, 31);
  const dows = values(f.dow, 0, 6);
  if (!and && dows.length > 0) return undefined;
  if (and && dows.length === 0) return `the day of week field${quoted(4)} selects no days`;
  if (doms.length === 0) {
    return `the day of month field${quoted(2)} selects no days${and ? "" : `, nor does the day of week field${quoted(4)}`}`;
  }
  const months = values(f.month, 1, 12);
  if (months.some((m) => doms.some((d) => d <= (MAX_DAYS[m] as number)))) return undefined;
  const monthText = andList(months.map((m) => MONTH_NAMES[m] as string));
  const longest = Math.max(...months.map((m) => MAX_DAYS[m] as number));
  const days = andList(ranges(doms, String));
  return doms.length === 1
    ? `day ${days} never occurs in ${monthText} (at most ${longest} days)`
    : `days ${days} never occur in ${monthText} (at most ${longest} days)`;
}
