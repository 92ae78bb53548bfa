// The YAML documents of test/fixtures/loader/kube-yaml-golden.json: scalar spellings in every position a
// manifest can hold them (plain, quoted, as a key), plus tags, escapes, merges and key conversions.
// Add a spelling here, then regenerate with `node test/oracle/kube-yaml/generate.ts`.

/** Scalar spellings, each tried plain, double-quoted and single-quoted as a value, and plain as a key. */
export const SPELLINGS: readonly string[] = [
  // booleans, YAML 1.1 style, and near misses
  ..."y Y yes Yes YES yEs true True TRUE tRUE on On ON oN n N no No NO nO false False FALSE fALSE".split(" "),
  ..."off Off OFF oFF".split(" "),
  // nulls
  ..."~ null Null NULL nULL".split(" "),
  "",
  // integers
  ..."0 00 -0 +0 1 +5 -5 0755 0o17 0O17 0x1F 0X1f -0x1F +0x1F 0b101 0B101 -0b101 0b+101 0b-101".split(" "),
  ..."1_000 1__000 _1000 1000_ 0x_1F 0b_1 1,000 08 09 0789 0x 0b 0o 0xG -".split(" "),
  ..."9223372036854775807 9223372036854775808 -9223372036854775808 -9223372036854775809".split(" "),
  ..."18446744073709551615 18446744073709551616 99999999999999999999 9007199254740993".split(" "),
  ..."0x7FFFFFFFFFFFFFFF 0xFFFFFFFFFFFFFFFF 0x10000000000000000 01777777777777777777777".split(" "),
  ..."12345678901234567 123456789012345".split(" "),
  // floats
  ..."0.0 -0.0 +0.0 .5 -.5 +.5 1. 1.0 -1.0 1e3 1E3 1e+3 1e-3 1.5e3 .5e3 -1.5E-3 0.1 3.14159 6.02e23".split(
    " ",
  ),
  ..."1e400 -1e400 1e-400 .5e400 1e21 1e20 1e-7 123456789.0 0.000001 1_0.5 1.5_0 ._5 .5_0 0x1p-2".split(" "),
  ..."1.10 1.20.3 1e 1e+ . .. 1.2.3 +. -. 1e3.5 0e0 -0e0 .5e1_0 .5__0 .5_ 1_0e1_0 +1_0.5".split(" "),
  ..."1.5e6 1000000.0 100000.0 0.0001 0.00001 3.4e38 3.5e38 1e39 16777217.0 0.1e1 1.0e-45".split(" "),
  // infinities and NaN
  ..."inf Infinity NaN nan .iNf -.iNf +.nan -.nan .inf .Inf .INF -.inf -.Inf -.INF +.inf +.Inf +.INF".split(
    " ",
  ),
  ..."+.INF .nan .NaN .NAN".split(" "),
  // dates, timestamps, sexagesimal
  "2024-01-01",
  "2024-1-1",
  "2024-13-45",
  "20240101",
  "2024-01-01T00:00:00Z",
  "2001-12-14t21:59:43.10-05:00",
  "2001-12-14 21:59:43.10",
  "2001-12-14 21:59:43.10 -5",
  "2001-12-15T02:59:43.1Z",
  "1:20",
  "190:20:30",
  "-1:30",
  "1:20.5",
  // strings that look like something else
  "v1.2",
  "0.1.0",
  "1.2.3-beta",
  "50M",
  "10Gi",
  "0 */6 * * *",
  "@midnight",
  "=",
  "<<",
  "--",
  "-a",
  "a#b",
  "a:b",
  "http://x:80/y",
  "s3://bucket/path",
  "ks1,ks2",
  "foo[1]",
  "héllo",
  "日本語",
  "😀",
  "a b  c",
  "NULL_VALUE",
  "True_",
  "yes!",
  "0x1F ",
];

/** One-off documents: tags, escapes, merges, aliases, key conversions, block scalars. */
export const DOCUMENTS: readonly string[] = [
  // explicit tags
  'a: !!int "5"',
  "a: !!int 1.5",
  "a: !!int 0x1F",
  "a: !!int 18446744073709551615",
  "a: !!float 1",
  "a: !!float 18446744073709551615",
  "a: !!float abc",
  "a: !!float .inf",
  "a: !!bool yes",
  "a: !!bool 1",
  "a: !!null ~",
  'a: !!null ""',
  "a: !!null x",
  "a: !!str 5",
  "a: !!str yes",
  "a: !!str",
  "a: !!timestamp 2001-12-14",
  "a: !!timestamp 2001-12-14 21:59:43.10",
  "a: !!timestamp 2001-02-30",
  "a: !!timestamp 5",
  "a: !!binary aGVsbG8=",
  "a: !!binary /w==",
  "a: !!binary aGVsbG8",
  "a: !!binary |\n  aGVs\n  bG8=",
  "a: !foo 5",
  "a: ! 5",
  "a: !!set {x, y}",
  "a: !!omap [{x: 1}, {y: 2}]",
  "a: !!map {x: 1}",
  "a: !!seq [1]",
  "a: !!merge <<",
  "!!str 1: x",
  "!!int 1: x",
  // double-quoted escapes
  'a: "\\/"',
  'a: "\\\'"',
  'a: "\\x41\\u00e9\\U0001F600"',
  'a: "\\ud800"',
  'a: "\\U00110000"',
  'a: "\\N\\_\\L\\P"',
  'a: "\\0\\a\\b\\t\\n\\v\\f\\r\\e\\ \\"\\\\"',
  'a: "\\q"',
  'a: "\\x4"',
  'a: "x\\\n  y"',
  'a: "x\n\n  y  \n  z"',
  "a: 'it''s'",
  "a: 'x\n\n  y'",
  // multi-line plain scalars and block scalars
  "a: 1\n  2",
  "a: x\n  y\n\n  z",
  "a: |\n  123\n",
  "a: >\n  yes\n  no\n",
  "a: |-\n  x",
  // keys
  "1: x\n2: y",
  "1.5: x",
  "0x1F: x",
  "-0: x",
  "1e6: x",
  "123456789.0: x",
  "1e39: x",
  ".inf: x\n-.inf: y\n.nan: z",
  "on: x\nOFF: y",
  "~: x",
  "null: x",
  ": x",
  "18446744073709551615: x",
  "9223372036854775807: x",
  "2024-01-01: x",
  "1:20: x",
  '"1": x\n1: y',
  "yes: x\ntrue: y",
  "[1, 2]: x",
  "{a: 1}: x",
  "? [a]\n: x",
  "__proto__: x",
  '"__proto__": {a: 1}',
  // merges and aliases
  "a: 1\n<<: {a: 2, b: 3}",
  "<<: {a: 2, b: 3}\na: 1",
  "b: &b {x: 1, y: 2}\nc:\n  <<: *b\n  y: 3",
  "b: &b {x: 1}\nd: &d {x: 2, z: 1}\nc:\n  <<: [*b, *d]",
  "a: &a 1\nb: *a",
  "a: &a\n  b: *a",
  "<<: 5",
  "'<<': 5",
  "<<: [1]",
  // duplicates
  "a: 1\na: 2",
  // documents that are not mappings
  "~",
  "",
  "5",
  "- 1\n- yes",
  "- 1:20\n- 2024-01-01",
];

/** Every golden input, in fixture order. */
export function goldenInputs(): string[] {
  const out: string[] = [];
  for (const s of SPELLINGS) {
    out.push(`v: ${s}`);
    out.push(`v: "${s.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`);
    out.push(`v: '${s.replaceAll("'", "''")}'`);
    out.push(`${s}: x`);
  }
  out.push(...DOCUMENTS);
  return [...new Set(out)];
}
