// The cases of test/fixtures/schedule/robfig-golden.json: robfig/cron v3.0.1 quirks from
// shared/reference/operators.md §4.2 and Appendix A, and the DST, leap-day and never-fires cases.
// Each spec runs from several instants; invalid specs once (their error does not depend on time).
// Zones are ones whose rules agree between the system tzdata Go reads and Node's ICU (no BC/Alberta,
// Morocco or Moldova, whose rules changed in tzdata 2025c–2026c).

export interface GoldenCase {
  readonly spec: string;
  readonly from: string;
  readonly count: number;
}

/** Instants every valid spec runs from: a Monday, the day before a leap day, a year end, far future. */
const FROMS = [
  "2024-01-01T00:00:30Z",
  "2024-02-28T23:59:59.5Z",
  "2023-12-31T23:59:00Z",
  "2025-06-15T08:30:15Z",
  "2099-12-30T00:00:00Z",
];

const cases: GoldenCase[] = [];
const seen = new Set<string>();

function add(spec: string, froms: readonly string[] = FROMS, count = 6): void {
  for (const from of froms) {
    const key = `${spec}\u0000${from}`;
    if (seen.has(key)) continue;
    seen.add(key);
    cases.push({ spec, from, count });
  }
}

/** Invalid (or panicking) specs: one instant is enough. */
const bad = (spec: string): void => add(spec, [FROMS[0] as string], 2);

// --- operators.md Appendix A, in order -------------------------------------------------------------
for (const s of [
  "",
  "@noon",
  "@daily ",
  " @daily",
  "@Daily",
  "@every  1h",
  "@every 1d",
  "@every",
  "@every 90m ",
])
  bad(s);
for (const s of ["@every 2562048h", "@every 1H", "CRON_TZ=Nowhere/City 0 0 * * *", "CRON_TZ=UTC"]) bad(s);
for (const s of ["cron_tz=UTC 0 0 * * *", "CRON_TZ=utc 0 0 * * *", "CRON_TZ=europe/paris 0 0 * * *"]) bad(s);
for (const s of ["CRON_TZ=../etc/passwd 0 0 * * *", "0 0 * * * *", "0 0 * *", "0 0 * * 7", "0 0 * * FRI-MON"])
  bad(s);
for (const s of ["0 0 * * MON-SUN", "0 0 * january *", "0 0 * mon *", "0 0 * * Sunday", "0 0 L * *"]) bad(s);
for (const s of ["0 0 * * 1#2", "0 0 1W * *", "H * * * *", "*/0 * * * *", "1-2-3 * * * *", "*/5/2 * * * *"])
  bad(s);
for (const s of ["/5 * * * *", "5- * * * *", "-5 * * * *", "60 * * * *", "0 24 * * *", "0 0 0 * *"]) bad(s);
for (const s of ["0 0 * 13 *", "99999999999999999999 * * * *"]) bad(s);
for (const s of [
  "@midnight",
  "@every 1h",
  "@every -1h",
  "@every 0",
  "@every 500ms",
  "@every .5h",
  "@every 1.h",
  "@every +1h",
  "@every 1µs",
  "CRON_TZ=UTC 0 0 * * *",
  "TZ=Europe/Paris 0 0 * * *",
  "CRON_TZ=Asia/Tokyo @daily",
  "CRON_TZ= 0 0 * * *",
  "CRON_TZ=US/Eastern 0 0 * * *",
  "TZ=UTC  0 0 * * *",
  "1 1 */2 11 *",
  "? ? ? ? ?",
  "0 0 * * mon,Wed,FRI",
  "0 0 * * MON-FRI/2",
  "0 0 * JAN/3 *",
  "*-5 * * * *",
  "*-foo * * * *",
  "5/15 * * * *",
  "*/100 * * * *",
  "*/60 * * * *",
  "+5 * * * *",
  "05 * * * *",
  "1,,2 * * * *",
  ", * * * *",
  ",5 * * * *",
  "0 0 30 2 *",
  "0 0 31 4 *",
  "0 0 1-31 * MON",
  "0 0 */1 * MON",
  "0 0 */2 * MON",
  "0\t0\t*\t*\t*",
  "0\u00a00 * * *",
  "0 0 * * * ",
]) {
  add(s);
}

// --- descriptors ---------------------------------------------------------------------------------
for (const d of ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@hourly"]) {
  add(d);
  add(`CRON_TZ=Europe/Paris ${d}`, ["2024-03-30T12:00:00Z", "2024-10-26T12:00:00Z"]);
  add(`TZ=America/New_York   ${d}  `, ["2024-03-09T12:00:00Z", "2024-11-02T12:00:00Z"]);
}
for (const s of [
  "@YEARLY",
  "@reboot",
  "@minutely",
  "@weekdays",
  "@",
  "@@daily",
  "@daily\t",
  "@every ",
  "@every\t1h",
])
  bad(s);
for (const s of ["@hourly *", "@midnight 0", "@ daily"]) bad(s);

// --- @every and Go durations ---------------------------------------------------------------------
for (const d of [
  "1h30m",
  ".5h",
  "1.h",
  "+1h",
  "-1h",
  "0",
  "+0",
  "-0",
  "500ms",
  "1µs",
  "1μs",
  "1us",
  "1ns",
  "999ms",
]) {
  add(`@every ${d}`, FROMS.slice(0, 3));
}
for (const d of ["1s", "1.5s", "90s", "2562047h", "2562047h47m16.854775807s", "1h0.5m", "0.000000001h"]) {
  add(`@every ${d}`, FROMS.slice(0, 3));
}
for (const d of ["5m", "1m30s", "24h", "168h", "1.0000000001s", "100000000000000000000ns", "0.9999999999s"]) {
  add(`@every ${d}`, FROMS.slice(0, 3));
}
add("CRON_TZ=Asia/Kolkata @every 1h", FROMS.slice(0, 2));
add("@every 9223372036854775808ns9223372036854775808ns", FROMS.slice(0, 1)); // Go's uint64 sum wraps to 0
add("@every 9223372036854775808ns9223372036854775808ns2h", FROMS.slice(0, 1));
for (const d of ["2562048h", "1d", "1H", "1e3s", "", "-", "+", ".", ".s", "1", "1.5", "h", "1hh", "1h-1m"]) {
  bad(`@every ${d}`);
}
for (const d of [
  "9223372036854775808ns",
  "9223372036854775807ns",
  "-9223372036854775808ns",
  "1h\u00b5",
  "3 s",
]) {
  bad(`@every ${d}`);
}
for (const d of ["1\u00e9", "1\u00b5", "1\u0000s", '1"s', "1\\s", "1\ts", "1\u03bc"]) bad(`@every ${d}`);

// --- fields: names, ranges, steps, lists, bounds ---------------------------------------------------
const months = ["JAN", "feb", "Mar", "aPr", "MAY", "jun", "JUL", "aug", "SEP", "oct", "NOV", "dec"];
add(`0 0 1 ${months.join(",")} *`, FROMS.slice(0, 2));
add("0 0 * JAN-MAR,OCT-DEC *", FROMS.slice(0, 2));
add("0 0 * * SUN,MON,TUE,WED,THU,FRI,SAT", FROMS.slice(0, 2));
add("0 0 * * sun-sat", FROMS.slice(0, 2));
add("0 0 * * SAT,SUN", FROMS);
add("0 0 * * FRI/1", FROMS.slice(0, 2));
add("0 0 * FEB-NOV/3 *", FROMS.slice(0, 2));
add("0 0 * * 0-6/3", FROMS.slice(0, 2));
add("0 0 * * 6", FROMS.slice(0, 2));
add("0 0 * * 0", FROMS.slice(0, 2));
add("0 0 * * FR\u0130", FROMS.slice(0, 1)); // Go's ToLower(İ) is "i": Friday
for (const s of ["0 0 * * FRIDAY", "0 0 * * Mo", "0 0 * JANUARY *", "0 0 * sep-jan *", "0 0 JAN * *"]) bad(s);
for (const s of ["0 0 * * sat-sun", "JAN * * * *", "0 MON * * *", "0 0 * * K", "0 0 * DE\u212a *"]) bad(s);
for (const s of ["0-59/7 * * * *", "59 23 31 12 6", "0 0-23/5 * * *", "0 */25 * * *", "0 0 */32 * *"]) add(s);
for (const s of ["0 0 5-10/3 * *", "10-50/20 * * * *", "0 0 * 2-12/4 *", "0 0 1,15 * *", "0 0 L,1 * *"])
  add(s);
for (const s of ["0,30 9-17 * * MON-FRI", "0 9 * * 1-5", "15 */6 * * *", "0 0 1 */3 *", "00 000 001 01 00"])
  add(s);
for (const s of ["+0 +0 +1 +1 +0", "0 0 ? * ?", "*/1 */1 */1 */1 */1", "*-1/1 * * * *", "?/15 * * * *"])
  add(s);
for (const s of [
  "0 0 *-99 * *",
  "0 0 * *-x *",
  "*,5 * * * *",
  "5,* * * * *",
  ",,, * * * *",
  "1,2,3,,, * * * *",
])
  add(s);
for (const s of [
  "59-0 * * * *",
  "0 23-0 * * *",
  "0 0 31-1 * *",
  "0 0 * 12-1 *",
  "0 0 * * 6-0",
  "60-61 * * * *",
])
  bad(s);
for (const s of [
  "-1 * * * *",
  "*/-1 * * * *",
  "0/-5 * * * *",
  "*/+5 * * * *",
  "5/0 * * * *",
  "0-59/0 * * * *",
]) {
  if (s === "*/+5 * * * *") add(s);
  else bad(s);
}
for (const s of ["1-- * * * *", "1--2 * * * *", "*-- * * * *", "1//2 * * * *", "1/2/ * * * *", "1/ * * * *"])
  bad(s);
for (const s of ["*/ * * * *", "a * * * *", "1a * * * *", "0x1 * * * *", "1_0 * * * *", "1.5 * * * *"])
  bad(s);
for (const s of [
  "9223372036854775807 * * * *",
  "9223372036854775808 * * * *",
  "-9223372036854775808 * * * *",
])
  bad(s);
for (const s of [
  "*/9223372036854775807 * * * *",
  "*/18446744073709551616 * * * *",
  "99999999999999999999x * * * *",
]) {
  if (s.startsWith("*/922")) add(s, FROMS.slice(0, 1));
  else bad(s);
}
for (const s of ["9999999999999999999x * * * *", "0 0 0-99999999999 * *", "0 0 * * 1-99999999999999999999"])
  bad(s);
for (const s of ["- * * * *", "+ * * * *", "+-1 * * * *", "-0 * * * *", "*/-0 * * * *", "*/00 * * * *"]) {
  if (s === "-0 * * * *") add(s, FROMS.slice(0, 1));
  else bad(s);
}
for (const s of ["1 2 3 4", "1 2 3 4 5 6 7", "      ", "*", "* * * * * *", "a b c d e f g h"]) bad(s);

// --- whitespace and Unicode ----------------------------------------------------------------------
for (const ws of [
  "\t",
  "\n",
  "\u000b",
  "\f",
  "\r",
  "\u0085",
  "\u00a0",
  "\u1680",
  "\u2000",
  "\u2003",
  "\u200a",
]) {
  add(["0", "12", "*", "*", "*"].join(ws), FROMS.slice(0, 1));
}
for (const ws of ["\u2028", "\u2029", "\u202f", "\u205f", "\u3000", " \t ", "\r\n"]) {
  add(["0", "12", "*", "*", "*"].join(ws), FROMS.slice(0, 1));
}
for (const ws of ["\ufeff", "\u200b", "\u180e", "\u00ad", "\u2060"]) bad(["0", "12", "*", "*", "*"].join(ws));
for (const s of [
  "\ufeff0 0 * * *",
  "0 0 * * *\ufeff",
  "0 0 * * \u00e9",
  "0 0 * * \u0000",
  "0 0 * * \u{1f600}",
])
  bad(s);
for (const s of [
  '0 0 * * "',
  "0 0 * * \\",
  "0 0 * * \u007f",
  "0 0 * * \u0001",
  "0 0 * * \u200b",
  "0 0 * * \ud7ff",
])
  bad(s);
for (const s of [
  "0 0 * * \u0378",
  "0 0 * * \u{10ffff}",
  "0 0 * * \u{e0001}",
  "0 0 * * \u{1f972}",
  "0 0 * * \ufffd",
])
  bad(s);
for (const s of ["\u0660 0 * * *", "\uff10 0 * * *", "\u00b9 0 * * *", "0 0 * * \u0031\u0308"]) bad(s);
add("  0 0 * * *", FROMS.slice(0, 1));
add("\t0 0 * * *\n", FROMS.slice(0, 1));

// --- time zone prefixes --------------------------------------------------------------------------
for (const s of ["TZ=", "TZ=0", "TZ=TZ=TZ=", "CRON_TZ=", "TZ=Europe/Paris", "CRON_TZ=UTC\t0\t0\t*\t*\t*"])
  bad(s);
for (const s of ["TZ=Europe/Paris\t0 0 * * *", "CRON_TZ=UTC ", "TZ=UTC \u00a0", "CRON_TZ=UTC @every", "TZ= "])
  bad(s);
for (const s of [
  "CRON_TZ=UTC 0 0 * * * *",
  "TZ=UTC=x 0 0 * * *",
  "TZ=/etc/localtime 0 0 * * *",
  "TZ=\\x 0 * * * *",
])
  bad(s);
for (const s of [
  "TZ=Europe/ 0 0 * * *",
  "TZ=Europe/Paris/ 0 0 * * *",
  "TZ=UTC/x 0 0 * * *",
  "TZ=zone.tab 0 0 * * *",
])
  bad(s);
for (const s of [
  "TZ=tzdata.zi 0 0 * * *",
  "TZ=Europe 0 0 * * *",
  "TZ=. 0 0 * * *",
  "TZ=.. 0 0 * * *",
  "TZ=a..b 0 0 * * *",
])
  bad(s);
for (const s of [
  "TZ=GMT+5 0 0 * * *",
  "TZ=EST5 0 0 * * *",
  "TZ=Europe/Pariss 0 0 * * *",
  "CRON_TZ=UTC+1 0 0 * * *",
])
  bad(s);
for (const s of [
  "TZ=America/Argentina 0 0 * * *",
  "TZ=a\u0000b 0 0 * * *",
  "TZ=\u00e9 0 0 * * *",
  "CRON_TZ=LOCAL 0 0 * * *",
])
  bad(s);
for (const s of ["CRON_TZ=Utc 0 0 * * *", "CRON_TZ=Local 0 0 * * *", "CRON_TZ=UTC x", "TZ=UTC 0 0 * * 7"]) {
  if (s.includes("Local 0")) add(s, FROMS.slice(0, 2));
  else bad(s);
}
for (const s of ["CRON_TZ=Europe//Paris 0 0 * * *", "CRON_TZ=./UTC 0 0 * * *", "TZ=UTC\u00a00 0 * * *"]) {
  if (s.includes("\u00a0")) bad(s);
  else add(s, FROMS.slice(0, 2));
}
add("TZ= 0 0 * * *", FROMS.slice(0, 2));
add("TZ=UTC @every 90m", FROMS.slice(0, 2));
add("CRON_TZ=Etc/UTC @weekly", FROMS.slice(0, 2));
add("TZ=UTC \u00a0 0 0 * * *", FROMS.slice(0, 1));
add("TZ=UTC \t\n@daily\t", FROMS.slice(0, 1));

const ZONES = [
  "UTC",
  "US/Eastern",
  "Etc/GMT+5",
  "Etc/GMT-14",
  "Europe/Paris",
  "America/New_York",
  "Australia/Lord_Howe",
  "Asia/Kolkata",
  "Asia/Calcutta",
  "America/Sao_Paulo",
  "Pacific/Chatham",
  "Europe/London",
  "EST5EDT",
  "Asia/Tokyo",
  "America/Santiago",
  "Asia/Tehran",
  "America/St_Johns",
  "Asia/Kathmandu",
  "Australia/Sydney",
  "Pacific/Auckland",
  "America/Havana",
  "Europe/Dublin",
  "America/Los_Angeles",
  "Africa/Cairo",
  "Asia/Gaza",
];
/** The zone's DST changes in 2024 (or nearby), to run from the day before each. */
const DST_FROMS: Record<string, readonly string[]> = {
  "US/Eastern": ["2024-03-09T12:00:00Z", "2024-11-02T12:00:00Z"],
  "America/New_York": ["2024-03-09T12:00:00Z", "2024-11-02T12:00:00Z", "2024-03-10T06:59:59Z"],
  EST5EDT: ["2024-03-09T12:00:00Z", "2024-11-02T12:00:00Z"],
  "America/Los_Angeles": ["2024-03-09T12:00:00Z", "2024-11-02T12:00:00Z"],
  "Europe/Paris": ["2024-03-30T12:00:00Z", "2024-10-26T12:00:00Z", "2024-03-31T00:59:00Z"],
  "Europe/London": ["2024-03-30T12:00:00Z", "2024-10-26T12:00:00Z"],
  "Europe/Dublin": ["2024-03-30T12:00:00Z", "2024-10-26T12:00:00Z"],
  "Australia/Lord_Howe": ["2024-04-06T06:00:00Z", "2024-10-05T06:00:00Z"],
  "Australia/Sydney": ["2024-04-06T06:00:00Z", "2024-10-05T06:00:00Z"],
  "Pacific/Chatham": ["2024-04-06T06:00:00Z", "2024-09-28T06:00:00Z"],
  "Pacific/Auckland": ["2024-04-06T06:00:00Z", "2024-09-28T06:00:00Z"],
  "America/Sao_Paulo": ["2018-11-03T12:00:00Z", "2019-02-16T12:00:00Z", "2017-10-14T12:00:00Z"],
  "America/Santiago": ["2024-04-06T12:00:00Z", "2024-09-07T12:00:00Z"],
  "America/Havana": ["2024-03-09T12:00:00Z", "2024-11-02T12:00:00Z"],
  "America/St_Johns": ["2024-03-09T12:00:00Z", "2024-11-02T12:00:00Z"],
  "Asia/Tehran": ["2022-03-21T00:00:00Z", "2022-09-21T00:00:00Z"],
  "Africa/Cairo": ["2024-04-25T12:00:00Z", "2024-10-31T12:00:00Z"],
  "Asia/Gaza": ["2024-04-19T12:00:00Z", "2024-10-25T12:00:00Z"],
};
const ZONE_SPECS = [
  "0 0 * * *",
  "30 2 * * *",
  "0 2 * * *",
  "0 3 * * *",
  "0 1 * * *",
  "59 23 * * *",
  "0 * * * *",
  "*/30 * * * *",
  "*/20 1-3 * * *",
  "0 3 * * SUN",
  "0 12 1 * *",
  "15 1 * * *",
  "45 1,2 * * *",
  "@daily",
  "@hourly",
];
for (const zone of ZONES) {
  const froms = [...(DST_FROMS[zone] ?? []), "2024-01-01T00:00:30Z", "2024-06-30T22:00:00Z"];
  for (const spec of ZONE_SPECS) add(`CRON_TZ=${zone} ${spec}`, froms);
  add(`TZ=${zone} 0 0 29 2 *`, ["2024-01-01T00:00:30Z"]);
}
// The DST cases named in the brief.
add("CRON_TZ=America/New_York 30 2 * * *", [
  "2024-03-09T00:00:00Z",
  "2024-03-10T06:00:00Z",
  "2025-03-08T12:00:00Z",
]);
add("CRON_TZ=Europe/Paris 30 2 * * *", [
  "2024-10-26T00:00:00Z",
  "2024-10-27T00:29:00Z",
  "2024-10-27T00:30:00Z",
]);
add("CRON_TZ=Europe/Paris 30 2 * * *", [
  "2024-10-27T01:30:00Z",
  "2024-03-30T00:00:00Z",
  "2024-03-31T01:00:00Z",
]);
add("CRON_TZ=Europe/Paris */15 * * * *", ["2024-10-27T00:40:00Z", "2024-03-31T00:40:00Z"], 8);
add("CRON_TZ=America/New_York */10 * * * *", ["2024-11-03T05:45:00Z", "2024-03-10T06:45:00Z"], 8);
add("CRON_TZ=America/New_York 0 * * * *", ["2024-11-03T03:30:00Z", "2024-03-10T05:30:00Z"], 8);
add("CRON_TZ=Australia/Lord_Howe 0,15,30,45 * * * *", ["2024-04-06T14:40:00Z", "2024-10-05T15:10:00Z"], 8);
add("CRON_TZ=Australia/Lord_Howe 45 1 * * *", ["2024-04-06T06:00:00Z", "2024-10-05T06:00:00Z"]);
add("CRON_TZ=America/Sao_Paulo 0 0 * * *", ["2018-11-02T12:00:00Z", "2018-11-03T03:30:00Z"]);
add("CRON_TZ=America/Sao_Paulo 30 0 3,4 11 *", ["2018-10-01T00:00:00Z"]);
add("CRON_TZ=America/Sao_Paulo 0 0 4 11 *", ["2018-10-01T00:00:00Z"]);
add("CRON_TZ=America/Havana 0 0 * * *", ["2024-03-09T12:00:00Z", "2024-11-02T12:00:00Z"]);
add("CRON_TZ=America/Havana 30 0 10 3 *", ["2024-03-01T12:00:00Z"]);
add("CRON_TZ=America/Santiago 0 0 * * *", ["2024-09-06T12:00:00Z", "2024-04-05T12:00:00Z"]);
add("CRON_TZ=America/Santiago 0 0 8 9 *", ["2024-09-01T12:00:00Z"]);
add("CRON_TZ=Asia/Tehran 0 0 * * *", ["2022-03-21T00:00:00Z", "2022-09-20T00:00:00Z"]);
add("CRON_TZ=Asia/Gaza 0 0,1 * * *", ["2024-04-19T12:00:00Z", "2024-10-25T12:00:00Z"]);
add("CRON_TZ=Europe/London 30 1 * 3,10 SUN", ["2024-03-01T00:00:00Z"], 8);
// robfig's Next never returns here (Apia skipped 30 December 2011); the port answers undefined ("hang").
add("CRON_TZ=Pacific/Apia 10 0 1 * *", ["2011-09-23T14:00:00Z"], 5);
add("CRON_TZ=Pacific/Apia 0 0 * * SUN", ["2011-12-29T10:00:00Z", "2011-12-20T00:00:00Z"], 3);
add("CRON_TZ=Pacific/Apia 0 0 * * *", ["2011-12-28T00:00:00Z", "2011-09-23T00:00:00Z"], 3);
add("CRON_TZ=Pacific/Fakaofo 0 0 * * *", ["2011-12-28T00:00:00Z"], 3);

// --- leap days and never-firing schedules ---------------------------------------------------------
const LEAP_FROMS = [
  "2024-01-01T00:00:30Z",
  "2024-02-29T00:00:00Z",
  "2097-01-01T00:00:00Z",
  "2096-03-01T00:00:00Z",
];
for (const s of [
  "0 0 29 2 *",
  "0 0 28-29 2 *",
  "0 12 29 FEB *",
  "0 0 29 2 THU",
  "0 0 29 2 */1",
  "0 0 29 * *",
])
  add(s, LEAP_FROMS);
for (const s of ["0 0 30 2 *", "0 0 31 4 *", "0 0 31 4,6,9,11 *", "0 0 30,31 2 *", ", * * * *", "0 , * * *"])
  add(s, LEAP_FROMS);
for (const s of ["0 0 , * *", "0 0 , * MON", "0 0 * , *", "0 0 * * ,", "0 0 30 2 MON", "0 0 31 2 */1"])
  add(s, LEAP_FROMS);
for (const s of ["0 0 31 2,4 ?", "0 0 , , ,", "0 0 31 * *", "0 0 31 2,3 *", "0 0 29 2 MON", "0 0 29 2 SAT"])
  add(s, LEAP_FROMS);

// --- day-of-month / day-of-week: the star bit decides AND or OR ------------------------------------
for (const s of [
  "0 0 1 * MON",
  "0 0 1 * */1",
  "0 0 */1 * */1",
  "0 0 13 * FRI",
  "0 0 *,13 * FRI",
  "0 0 13 * *-1",
])
  add(s);
for (const s of [
  "0 0 ? * MON",
  "0 0 13 * ?",
  "0 0 1-31 * *",
  "0 0 * * 0-6",
  "0 0 1-31 * 0-6",
  "0 0 1/1 * MON",
])
  add(s);
for (const s of ["0 0 */3 * */2", "0 0 15 * 1-5/2", "0 0 1,L * *", "0 0 1 * 7"]) {
  if (s.includes("L") || s.endsWith(" 7")) bad(s);
  else add(s);
}

// --- frequent and every-minute -------------------------------------------------------------------
for (const s of [
  "* * * * *",
  "*/5 * * * *",
  "*/2 * * * *",
  "0,1 0 * * *",
  "58,59,0,1 * * * *",
  "* 2 * * *",
]) {
  add(s, FROMS.slice(0, 3), 8);
}

export const GOLDEN_CASES: readonly GoldenCase[] = cases;
