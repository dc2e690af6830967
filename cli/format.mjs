// Owns how the command line writes numbers, durations, rates and tables for people.
export const int = (n) => Math.round(n).toLocaleString("en-US");

export const pct = (part, whole) => (whole ? `${((100 * part) / whole).toFixed(1)}%` : "-");

/** 0.8 s, 12.3 s, 4 min 05 s, 1 h 02 min. */
export function duration(ms) {
  if (!Number.isFinite(ms) || ms < 0) return "?";
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(Math.round(s % 60)).padStart(2, "0")} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
}

export const rate = (items, ms) => (ms > 0 ? int((items * 1000) / ms) : "-");

/**
 * Rows of cells as aligned text: numbers (and cells that look like them) right-aligned, except in the
 * first and last columns.
 * `indent` goes before every line.
 */
export function table(rows, { indent = "  ", header } = {}) {
  const all = header ? [header, ...rows] : rows;
  const widths = [];
  for (const r of all)
    r.forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, String(c ?? "").length);
    });
  const numeric = (c) => typeof c === "number" || /^[\d,.]+%?$|^-$/.test(String(c));
  return all
    .map(
      (r) =>
        indent +
        r
          .map((c, i) => {
            const s = String(c ?? "");
            if (i === r.length - 1) return s;
            return numeric(c) && i > 0 ? s.padStart(widths[i]) : s.padEnd(widths[i]);
          })
          .join("  ")
          .trimEnd(),
    )
    .join("\n");
}
