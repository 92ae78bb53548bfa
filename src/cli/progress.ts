// How `casskeeper backup run --wait` / `restore run --wait` show an operation's progress: on a terminal one line
// redrawn in place (`\r`), elsewhere (CI logs, pipes, files) plain lines, written only when the state changes
// or the progress enters a new 10 % step, so a log holds at most a dozen lines however long the backup runs.
// The renderers are pure functions of state, progress, elapsed time and width.

/**
 * CassKop shows progress as `int(progress*100)%` (sidecar.md §4): truncated (0.29 → 28, as Go computes it, and
 * as the runner writes `status.progress`, so the CLI and the object agree), clamped to 0..100, NaN as 0.
 */
export function wholePercent(progress: number): number {
  if (!Number.isFinite(progress)) return 0;
  return Math.min(100, Math.max(0, Math.trunc(progress * 100)));
}

/** `0s`, `59s`, `1m05s`, `2h03m07s`: whole seconds, truncated. */
export function formatElapsed(ms: number): string {
  const total = Number.isFinite(ms) && ms > 0 ? Math.floor(ms / 1000) : 0;
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const two = (n: number) => String(n).padStart(2, "0");
  if (h > 0) return `${h}h${two(m)}m${two(s)}s`;
  if (m > 0) return `${m}m${two(s)}s`;
  return `${s}s`;
}

export interface ProgressFrame {
  /** The sidecar's state: PENDING, RUNNING, COMPLETED, FAILED, CANCELLED (anything else is shown as is). */
  readonly state: string;
  /** 0..1 as the sidecar reports it. */
  readonly progress: number;
  readonly elapsedMs: number;
  /** Terminal columns. */
  readonly width: number;
}

const BAR_MAX = 40;
const BAR_MIN = 5;
/** The longest state name (COMPLETED, CANCELLED), so the text after the bar does not jump. */
const STATE_WIDTH = 9;
/** `100% COMPLETED 1h02m03s`: the bar is sized for the longest text, so it keeps its width as time passes. */
const TEXT_WIDTH = 4 + 1 + STATE_WIDTH + 1 + "1h02m03s".length;

/**
 * One terminal line: `[##########----------]  50% RUNNING   1m05s`. At most `width - 1` characters (writing
 * the last column makes some terminals wrap, and the next `\r` would then redraw the wrong line); on a narrow
 * terminal the bar goes first, then the text is cut.
 */
export function renderProgressBar(f: ProgressFrame): string {
  const pct = wholePercent(f.progress);
  const text = `${String(pct).padStart(3)}% ${f.state.padEnd(STATE_WIDTH)} ${formatElapsed(f.elapsedMs)}`;
  const room = Math.max(0, Math.floor(f.width) - 1);
  const inner = Math.min(BAR_MAX, room - Math.max(TEXT_WIDTH, text.length) - 3);
  if (inner < BAR_MIN) return text.trimStart().slice(0, room);
  const filled = Math.floor((inner * pct) / 100);
  return `[${"#".repeat(filled)}${"-".repeat(inner - filled)}] ${text}`;
}

/** A plain line: `RUNNING 40% (1m05s)`. */
export function plainProgressLine(state: string, progress: number, elapsedMs: number): string {
  return `${state} ${wholePercent(progress)}% (${formatElapsed(elapsedMs)})`;
}

export interface ProgressView {
  /** The operation as last polled. */
  update(state: string, progress: number, elapsedMs: number): void;
  /** Ends the view (a TTY line gets its newline), before anything else is printed. Idempotent. */
  finish(): void;
}

/** The in-place bar; redraws on every update (the elapsed time moves even when progress does not). */
export function createTtyProgress(write: (text: string) => void, columns: () => number): ProgressView {
  let drawn = 0;
  let open = false;
  return {
    update(state, progress, elapsedMs) {
      const line = renderProgressBar({ state, progress, elapsedMs, width: columns() });
      // Blank out what a longer previous line left behind; no ANSI codes, so any terminal understands it.
      write(`\r${line.padEnd(drawn)}`);
      drawn = line.length;
      open = true;
    },
    finish() {
      if (open) write("\n");
      open = false;
      drawn = 0;
    },
  };
}

/** Plain lines, only when the state changes or the progress enters a new `stepPercent` step. */
export function createPlainProgress(write: (text: string) => void, stepPercent = 10): ProgressView {
  let lastState: string | undefined;
  let lastStep = -1;
  return {
    update(state, progress, elapsedMs) {
      const step = Math.floor(wholePercent(progress) / stepPercent);
      if (state === lastState && step === lastStep) return;
      lastState = state;
      lastStep = step;
      write(`${plainProgressLine(state, progress, elapsedMs)}\n`);
    },
    finish() {},
  };
}
