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
