// Owns the HTTP plumbing shared by all routes: CORS headers, reading a size-limited body, reply
// helpers for the two error body shapes, and writing replies.

export const CORS_HEADERS = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Expose-Headers": "Retry-After",
};

export function preflightHeaders(methods = "GET, POST, OPTIONS") {
  return {
    ...CORS_HEADERS,
    "Access-Control-Allow-Methods": methods,
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
    "Access-Control-Max-Age": "86400",
  };
}

/** A reply is { status, body, headers? }: handlers return replies, only send() writes them. */
export const ok = (body) => ({ status: 200, body });
/** `{"success": false, "error": ...}`, the usual error shape. */
export const fail = (status, error, headers) => ({ status, body: { success: false, error }, headers });
/** `{"error": ...}`, the shape of the project mismatch and of bulk request-level errors. */
export const failPlain = (status, error) => ({ status, body: { error } });

export class BodyTooLarge extends Error {}

/** Reads the request body; rejects with BodyTooLarge past maxBytes (by Content-Length or by count). */
export function readBody(req, maxBytes) {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    if (declared > maxBytes) {
      req.resume();
      reject(new BodyTooLarge());
      return;
    }
    const chunks = [];
    let size = 0;
    let done = false;
    req.on("data", (chunk) => {
      if (done) return;
      size += chunk.length;
      if (size > maxBytes) {
        done = true;
        chunks.length = 0;
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (!done) {
        done = true;
        resolve(Buffer.concat(chunks));
      }
    });
    req.on("error", (err) => {
      if (!done) {
        done = true;
        reject(err);
      }
    });
    req.on("close", () => {
      if (!done) {
        done = true;
        reject(new Error("request aborted"));
      }
    });
  });
}

/** Writes a reply (JSON unless body is a Buffer/string with its own Content-Type), with CORS headers. */
export function send(res, reply) {
  if (res.destroyed || res.writableEnded || res.headersSent) return;
  const headers = { ...CORS_HEADERS, ...reply.headers };
  let payload = reply.body;
  if (payload === undefined || payload === null) payload = "";
  else if (!Buffer.isBuffer(payload) && typeof payload !== "string") {
    payload = JSON.stringify(payload);
    headers["Content-Type"] ??= "application/json; charset=utf-8";
  }
  headers["Content-Length"] = Buffer.byteLength(payload);
  res.writeHead(reply.status, headers);
  res.end(payload);
}

/** "true"/"1"/"yes" -> true; anything else -> false. */
export const queryBool = (v) => typeof v === "string" && ["true", "1", "yes"].includes(v.toLowerCase());
