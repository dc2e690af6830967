// A panic inside the wasm module (a bug) surfaces as a VoxError and the module keeps working:
// the instance restarts, functions answer, and an existing client remakes its handle.

import assert from "node:assert/strict";
import { after, test } from "node:test";
import * as vox from "../../dist/vox-crm/node/index.mjs";
import { startSandbox } from "../../sandbox/server.mjs";

const sandbox = await startSandbox({ port: 0, quiet: true });
after(() => sandbox.close());

test("a wasm panic becomes a VoxError and the module keeps working", async () => {
  const client = new vox.VoxClient({ projectId: "6650a1b2c3d4e5f601234567", token: "sk_test_vox_sandbox", baseUrl: sandbox.url });
  const before = await client.queryLeads({ limit: 1 });
  assert.equal(typeof before.total, "number");
  assert.equal(vox.normalizePhone("098453 17206"), "+919845317206");

  let caught;
  try {
    vox.__panicForTests();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof vox.VoxError, `a VoxError, not ${caught?.constructor?.name}`);
  assert.equal(caught.code, "internal_error");
  assert.match(caught.message, /deliberate panic/);

  // Everything works after the restart: stateless functions, the fast path, and the old client.
  assert.equal(vox.normalizePhone("098453 17206"), "+919845317206");
  assert.deepEqual(
    vox.validatePhones(["+919845317206", "12"]).map((c) => c.valid),
    [true, false],
  );
  assert.equal(vox.validatePhone("9999999999").reason, "repeating_digits");
  const again = await client.queryLeads({ limit: 1 });
  assert.equal(again.total, before.total);
  const fresh = new vox.VoxClient({ projectId: "6650a1b2c3d4e5f601234567", token: "sk_test_vox_sandbox", baseUrl: sandbox.url });
  await assert.rejects(fresh.getLead({ leadId: "ffffffffffffffffffffffff" }), (e) => e instanceof vox.VoxError && e.code === "not_found");

  // Twice in a row is fine too.
  assert.throws(
    () => vox.__panicForTests(),
    (e) => e.code === "internal_error",
  );
  assert.equal(vox.maskPhone("+919845317206"), "+91******7206");
});
