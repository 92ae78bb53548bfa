// casskeeper's schedule rule: robfig/cron v3.0.1 `ParseStandard` and `Next`, ported exactly, with checks
// and plain-English explanations on top. Pure: no clock, no files, no network.

export { checkSchedule, SCHEDULE_CODES, type ScheduleCode } from "./check.ts";
export { explainSchedule } from "./explain.ts";
export { formatGoDuration, type GoDurationResult, parseGoDuration } from "./go-duration.ts";
export { nextTimes, type ParseResult, parseStandard } from "./parser.ts";
export type { Schedule } from "./spec.ts";
