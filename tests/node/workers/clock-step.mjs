// A child process for the monotonic-clock test (hostile.test.mjs): its Date.now is replaced
// before the package is imported (so that whatever the package binds at load time is the
// stepping one). A client limited to 5 requests a second starts 7 getLead calls; half a second
// later (the first 5 answered, 2 waiting) the wall clock steps by argv[3] ms and 8 more start.
// Usage: node clock-step.mjs BASE_URL STEP_MS
const realNow = Date.now;
let shift = 0;
Date.now = () => realNow() + shift;
const [baseUrl, step] = process.argv.slice(2);
const { VoxClient } = await import("../../../dist/vox-crm/node/index.mjs");
const client = new VoxClient({ projectId: "eeeeeeeeeeeeeeeeeeee0001", token: "sk_test_clock", baseUrl, rateLimit: { requests: 5, perMs: 1000 } });
const get = () => client.getLead({ leadId: "ffffffffffffffffffffffff" });
const calls = Array.from({ length: 7 }, get);
await new Promise((resolve) => setTimeout(resolve, 500));
shift = Number(step);
calls.push(...Array.from({ length: 8 }, get));
await Promise.all(calls);
