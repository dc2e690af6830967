// Shared by the benchmark workers: the sandbox's default credentials and lead generation.
export const TOKEN = "sk_test_vox_sandbox";
export const PROJECT = "6650a1b2c3d4e5f601234567";
export const PROCESS = "6650a1b2c3d4e5f6012345a1";

/** `count` leads with distinct valid Indian mobiles (no repeating or sequential patterns). */
export function makeLeads(count, tag = "b") {
  const out = new Array(count);
  for (let i = 0; i < count; i++) {
    const n = (i * 7919 + 1234567) % 100000000;
    out[i] = { name: `Bench ${tag} ${i}`, phone: `+9196${String(n).padStart(8, "0")}`, processId: PROCESS };
  }
  return out;
}

/**
 * What a running server has done before its import starts: the package is imported and
 * compiled, Node's fetch is loaded and has one connection open. Each worker calls this before
 * its clock starts, so the numbers are the work itself, not one-off start-up.
 */
export async function warmUp(kind, baseUrl) {
  const pkg = kind === "vox" ? await import("../../dist/vox-crm/node/index.mjs") : null;
  const res = await fetch(`${baseUrl}/leads/query?page=1&limit=1`, { headers: { authorization: `Bearer ${TOKEN}` } });
  await res.arrayBuffer();
  return pkg;
}

/**
 * What a careful user would write by hand: leads sent in chunks of `chunk`, `concurrency` at a
 * time, through `fetchFn`, with no checks; returns how many the server created. With `kept`
 * (an array), each created lead is kept there as `{ index, lead }`, the shape of a bulk's
 * `created`, so its cost to the heap can be told from the rest.
 */
export async function plainBulk(leads, { baseUrl, projectId, fetchFn = fetch, chunk = 1000, concurrency = 4, kept = null }) {
  let created = 0;
  let next = 0;
  async function worker() {
    while (next < leads.length) {
      const start = next;
      const part = leads.slice(next, next + chunk).map((l) => ({ ...l, projectId }));
      next += chunk;
      const res = await fetchFn(`${baseUrl}/leads/bulk/initiate`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ leads: part, init: false }),
      });
      const body = await res.json();
      created += body.success.length;
      if (kept !== null) for (let j = 0; j < body.success.length; j++) kept.push({ index: start + j, lead: body.success[j] });
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return created;
}
