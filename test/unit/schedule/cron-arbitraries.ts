// fast-check generators for cron expressions: a broad grammar that yields both valid and invalid
// robfig specs (for the differential test against Go and the never-throws properties), and a model
// grammar of valid specs that also returns the values each field selects (for the field-match property).
import fc from "fast-check";

interface FieldRange {
  readonly min: number;
  readonly max: number;
  readonly names: readonly string[];
}

export const FIELDS: readonly FieldRange[] = [
  { min: 0, max: 59, names: [] },
  { min: 0, max: 23, names: [] },
  { min: 1, max: 31, names: [] },
  {
    min: 1,
    max: 12,
    names: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
  },
  { min: 0, max: 6, names: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] },
];

const OTHER_NAMES = ["january", "Sunday", "MONDAY", "abc", "L", "W", "H", "LW", "5L", "1#2", "?", "*"];

/** Zones whose tzdata agrees between Go's system zoneinfo and Node's ICU. */
export const GOOD_ZONES = [
  "UTC",
  "Local",
  "",
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
  "America/Santiago",
  "America/Havana",
  "Asia/Tehran",
  "America/St_Johns",
  "Australia/Sydney",
  "Asia/Tokyo",
  "EST5EDT",
  "Europe//Paris",
];
export const BAD_ZONES = [
  "utc",
  "europe/paris",
  "Nowhere/City",
  "../etc/passwd",
  "/etc/localtime",
  "Europe",
  "Europe/",
  "UTC/x",
  "Europe/Paris/",
  "zone.tab",
  "GMT+5",
  "Etc/GMT+15",
  "Europe/Pariss",
  "LOCAL",
  "TZ=UTC",
];

const pick = <T>(xs: readonly T[]): fc.Arbitrary<T> => fc.constantFrom(...xs);

function randomCase(s: string): fc.Arbitrary<string> {
  return fc
    .array(fc.boolean(), { minLength: s.length, maxLength: s.length })
    .map((up) => [...s].map((c, i) => (up[i] ? c.toUpperCase() : c)).join(""));
}

/** A number or name token for field f, often valid, sometimes not. */
function token(f: FieldRange): fc.Arbitrary<string> {
  const n = fc.integer({ min: f.min, max: f.max });
  const options: fc.Arbitrary<string>[] = [
    n.map(String),
    n.map(String),
    n.map((v) => `0${v}`),
    n.map((v) => `+${v}`),
    fc.integer({ min: -3, max: f.max + 3 }).map(String),
    pick(["", "99999999999999999999", "9223372036854775807", "-0", "x", "1.5", "\u0661", "\u00e9"]),
    pick(OTHER_NAMES),
  ];
  if (f.names.length > 0) options.push(pick(f.names).chain(randomCase), pick(f.names).chain(randomCase));
  return fc.oneof(...options);
}

function item(f: FieldRange): fc.Arbitrary<string> {
  const t = token(f);
  const step = fc.oneof(
    fc.integer({ min: 1, max: f.max + 2 }).map(String),
    pick(["0", "-1", "+2", "", "100", "99999999999999999999", "x"]),
  );
  const low = fc.oneof({ weight: 3, arbitrary: t }, { weight: 1, arbitrary: pick(["*", "?"]) });
  return fc.oneof(
    { weight: 4, arbitrary: low },
    { weight: 3, arbitrary: fc.tuple(low, t).map(([a, b]) => `${a}-${b}`) },
    { weight: 3, arbitrary: fc.tuple(low, step).map(([a, s]) => `${a}/${s}`) },
    { weight: 2, arbitrary: fc.tuple(low, t, step).map(([a, b, s]) => `${a}-${b}/${s}`) },
    { weight: 1, arbitrary: fc.tuple(t, t, t).map(([a, b, c]) => `${a}-${b}-${c}`) },
    { weight: 1, arbitrary: fc.tuple(low, step, step).map(([a, s, r]) => `${a}/${s}/${r}`) },
  );
}

function field(f: FieldRange): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 6, arbitrary: item(f) },
    {
      weight: 3,
      arbitrary: fc
        .array(fc.oneof(item(f), fc.constant("")), { minLength: 1, maxLength: 4 })
        .map((xs) => xs.join(",")),
    },
    { weight: 1, arbitrary: pick(["*", "?", ",", "*/1", "*-5"]) },
  );
}

const SEPARATORS = [" ", " ", " ", "  ", "\t", "\u00a0", "\u0085", "\u3000", "\n", "\ufeff", "\u200b"];

function fieldsSpec(): fc.Arbitrary<string> {
  const five = fc.tuple(...FIELDS.map(field));
  return fc
    .tuple(five, fc.array(pick(SEPARATORS), { minLength: 4, maxLength: 4 }), fc.integer({ min: 0, max: 12 }))
    .map(([fs, seps, shape]) => {
      let list = [...fs];
      if (shape === 0) list = list.slice(0, 4);
      if (shape === 1) list = [...list, "0"];
      return list.reduce((acc, f, i) => (i === 0 ? f : `${acc}${seps[(i - 1) % 4]}${f}`), "");
    });
}

const UNITS = ["ns", "us", "\u00b5s", "\u03bcs", "ms", "s", "m", "h", "d", "H", "", " ", "S", "hh"];

export function goDuration(): fc.Arbitrary<string> {
  const digits = fc.oneof(
    fc.integer({ min: 0, max: 5000 }).map(String),
    pick(["", "0", "00", "2562047", "2562048", "9223372036854775807", "9223372036854775808", "1000000"]),
  );
  const piece = fc
    .tuple(digits, fc.option(fc.oneof(digits, fc.constant("")), { nil: undefined }), pick(UNITS))
    .map(([i, f, u]) => `${i}${f === undefined ? "" : `.${f}`}${u}`);
  return fc.oneof(
    {
      weight: 8,
      arbitrary: fc
        .tuple(pick(["", "", "+", "-"]), fc.array(piece, { minLength: 1, maxLength: 3 }))
        .map(([s, ps]) => s + ps.join("")),
    },
    { weight: 1, arbitrary: pick(["0", "-0", "+0", "", "1e3s", " 1h", "1h ", ".", "-.s", "1.5"]) },
  );
}

const DESCRIPTORS = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"];
const BAD_DESCRIPTORS = [
  "@Daily",
  "@daily ",
  "@noon",
  "@reboot",
  "@every",
  "@",
  "@weekdays",
  " @daily",
  "@every  1h",
];

/** A robfig spec from a broad grammar: zone prefix, descriptor, @every or five fields; valid or not. */
export function cronSpec(): fc.Arbitrary<string> {
  const body = fc.oneof(
    { weight: 10, arbitrary: fieldsSpec() },
    { weight: 2, arbitrary: pick(DESCRIPTORS) },
    { weight: 1, arbitrary: pick(BAD_DESCRIPTORS) },
    { weight: 3, arbitrary: goDuration().map((d) => `@every ${d}`) },
  );
  const zone = fc.oneof(
    { weight: 4, arbitrary: pick(GOOD_ZONES) },
    { weight: 1, arbitrary: pick(BAD_ZONES) },
  );
  const prefix = fc.oneof(
    { weight: 6, arbitrary: fc.constant("") },
    {
      weight: 4,
      arbitrary: fc
        .tuple(pick(["CRON_TZ=", "TZ=", "cron_tz="]), zone, pick([" ", " ", "  ", "\t", " \u00a0"]))
        .map(([p, z, sep]) => `${p}${z}${sep}`),
    },
  );
  return fc
    .tuple(prefix, body, fc.integer({ min: 0, max: 40 }))
    .map(([p, b, n]) => (n === 0 ? p.trimEnd() : p + b));
}

/** A model of one valid field: its text, the values it selects and robfig's star flag. */
export interface FieldModel {
  readonly text: string;
  readonly values: ReadonlySet<number>;
  readonly star: boolean;
}

function validItem(f: FieldRange): fc.Arbitrary<FieldModel> {
  const span = f.max - f.min;
  const name = (v: number): fc.Arbitrary<string> =>
    f.names.length > 0 ? fc.constantFrom(String(v), f.names[v - f.min] as string) : fc.constant(String(v));
  const range = (a: number, b: number, step: number): Set<number> => {
    const s = new Set<number>();
    for (let v = a; v <= b; v += step) s.add(v);
    return s;
  };
  return fc.oneof(
    // * or ? with an optional step
    fc
      .tuple(fc.constantFrom("*", "?"), fc.option(fc.integer({ min: 1, max: span + 2 }), { nil: undefined }))
      .map(([s, step]) => ({
        text: step === undefined ? s : `${s}/${step}`,
        values: range(f.min, f.max, step ?? 1),
        star: step === undefined || step === 1,
      })),
    // a single value
    fc
      .integer({ min: f.min, max: f.max })
      .chain((v) => name(v).map((t) => ({ text: t, values: new Set([v]), star: false }))),
    // a range with an optional step
    fc
      .tuple(
        fc.integer({ min: f.min, max: f.max }),
        fc.integer({ min: f.min, max: f.max }),
        fc.integer({ min: 1, max: span + 1 }),
      )
      .chain(([x, y, step]) => {
        const [a, b] = x <= y ? [x, y] : [y, x];
        return fc.tuple(name(a), name(b), fc.boolean()).map(([ta, tb, stepped]) => ({
          text: stepped ? `${ta}-${tb}/${step}` : `${ta}-${tb}`,
          values: range(a, b, stepped ? step : 1),
          star: false,
        }));
      }),
    // N/step: N through the maximum
    fc
      .tuple(fc.integer({ min: f.min, max: f.max }), fc.integer({ min: 1, max: span + 1 }))
      .map(([a, step]) => ({ text: `${a}/${step}`, values: range(a, f.max, step), star: false })),
  );
}

function validField(f: FieldRange): fc.Arbitrary<FieldModel> {
  return fc.array(validItem(f), { minLength: 1, maxLength: 3 }).map((items) => ({
    text: items.map((i) => i.text).join(","),
    values: new Set(items.flatMap((i) => [...i.values])),
    star: items.some((i) => i.star),
  }));
}

/** Zones whose DST changes move clocks by whole hours away from midnight, where every fire time matches
 *  its fields. (robfig can return off-field times in 30-minute or midnight changes: Lord_Howe, Havana.) */
export const REGULAR_ZONES = [
  "UTC",
  "Europe/Paris",
  "America/New_York",
  "Asia/Kolkata",
  "Etc/GMT+5",
  "Australia/Sydney",
];

export interface SpecModel {
  readonly spec: string;
  readonly zone: string;
  readonly fields: readonly FieldModel[];
}

/** A valid five-field spec with the values each field selects. */
export function validSpec(): fc.Arbitrary<SpecModel> {
  return fc.tuple(fc.tuple(...FIELDS.map(validField)), pick(REGULAR_ZONES)).map(([fields, zone]) => ({
    spec: `${zone === "UTC" ? "" : `CRON_TZ=${zone} `}${fields.map((f) => f.text).join(" ")}`,
    zone,
    fields,
  }));
}

/** An instant between 1971 and 2090, to the millisecond. */
export const instant = (): fc.Arbitrary<number> =>
  fc.integer({ min: Date.UTC(1971, 0, 1), max: Date.UTC(2090, 0, 1) });

/** An instant in the weeks when most zones change clocks (March–April, September–November), 1990–2080. */
export const dstInstant = (): fc.Arbitrary<number> =>
  fc
    .tuple(
      fc.integer({ min: 1990, max: 2080 }),
      fc.constantFrom(2, 3, 8, 9, 10),
      fc.integer({ min: 0, max: 30 * 86_400_000 - 1 }),
    )
    .map(([y, m, offset]) => Date.UTC(y, m, 1) + offset);
