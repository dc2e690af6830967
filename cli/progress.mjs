// Owns the progress display of a long command on stderr: on a terminal a bar (cli-progress) with
// the rows done, the rate, the ETA and the counts so far; elsewhere (a pipe, a file, CI) a plain
// line every few seconds and one at the end. Messages during the run go above the bar.
import cliProgress from "cli-progress";
import { duration, int } from "./format.mjs";

const PLAIN_EVERY_MS = 2000;

/**
 * A progress display over `total` items. update(done, counts) with counts { created, failed,
 * unknown }; log(text) prints a line; stop() leaves the last state on screen.
 * `tty` (default: whether stderr is a terminal) picks the bar; `quiet` shows nothing.
 */
export function createProgress({ total, unit = "rows", stream = process.stderr, tty = stream.isTTY === true, quiet = false }) {
  const t0 = performance.now();
  const state = { done: 0, created: 0, failed: 0, unknown: 0 };
  const rate = () => {
    const s = (performance.now() - t0) / 1000;
    return s > 0.2 ? state.done / s : 0;
  };
  if (quiet) return { update() {}, log: (text) => stream.write(text + "\n"), stop() {} };

  if (!tty) {
    let last = -Infinity;
    const line = () => {
      const r = rate();
      const eta = r > 0 ? ` · ETA ${duration(((total - state.done) / r) * 1000)}` : "";
      const p = total ? Math.floor((100 * state.done) / total) : 100;
      stream.write(
        `progress ${int(state.done)}/${int(total)} ${unit} (${p}%) · ${int(r)} ${unit}/s${eta} · created ${int(state.created)} · failed ${int(state.failed)} · unknown ${int(state.unknown)}\n`,
      );
    };
    return {
      update(done, counts = {}) {
        Object.assign(state, counts, { done });
        const now = performance.now();
        if (now - last >= PLAIN_EVERY_MS) {
          last = now;
          line();
        }
      },
      log: (text) => stream.write(text + "\n"),
      stop() {
        line();
      },
    };
  }

  const bars = new cliProgress.MultiBar({
    stream,
    format: ` {bar} {percentage}% | {value}/{total} ${unit} | {rate} ${unit}/s | ETA {eta_formatted} | \u2713 {created}  \u2717 {failed}  ? {unknown}`,
    barCompleteChar: "\u2588",
    barIncompleteChar: "\u2591",
    barsize: 30,
    hideCursor: true,
    gracefulExit: false, // the command handles Ctrl-C itself (and stops the bar)
    etaBuffer: 50,
    fps: 8,
    formatValue: (v, _options, type) => (type === "value" || type === "total" ? int(v) : v),
  });
  const bar = bars.create(total, 0, { rate: "0", created: "0", failed: "0", unknown: "0" });
  let stopped = false;
  return {
    update(done, counts = {}) {
      Object.assign(state, counts, { done });
      bar.update(done, { rate: int(rate()), created: int(state.created), failed: int(state.failed), unknown: int(state.unknown) });
    },
    log: (text) => (stopped ? stream.write(text + "\n") : bars.log(text + "\n")),
    stop() {
      if (stopped) return;
      stopped = true;
      bar.update(state.done, { rate: int(rate()), created: int(state.created), failed: int(state.failed), unknown: int(state.unknown) });
      bars.stop();
    },
  };
}
