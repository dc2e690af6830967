// A programmable CRM on loopback for the hardening tests: each test says how the next requests
// are answered (`server.answer(fn)`), and the server records every request it got.
import http from "node:http";

/**
 * Starts the server. `fn(req, body)` answers a request: `{ status, headers, body }` (an object
 * body is sent as JSON, a string or Buffer as it is), or a function `(res) => void` that writes
 * the answer itself. Without an answer function every request gets 404.
 */
export async function startHostile() {
  let answer = () => ({ status: 404, body: { success: false, error: "Not found" } });
  const requests = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      let body;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = text;
      }
      const url = new URL(req.url, "http://127.0.0.1");
      const seen = { method: req.method, path: url.pathname, query: url.searchParams, headers: req.headers, body, at: performance.now() };
      requests.push(seen);
      const a = answer(seen);
      if (typeof a === "function") return a(res);
      const payload = typeof a.body === "string" || Buffer.isBuffer(a.body) ? a.body : JSON.stringify(a.body ?? {});
      res.writeHead(a.status ?? 200, { "content-type": "application/json", ...(a.headers ?? {}) });
      res.end(payload);
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    url: `${origin}/api/v1`,
    requests,
    answer(fn) {
      answer = fn;
      requests.length = 0;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

let leadNo = 0;
/** A lead as the server would answer it. */
export function serverLead(input = {}) {
  leadNo += 1;
  return { _id: leadNo.toString(16).padStart(24, "0"), currentState: "new", ...input };
}
