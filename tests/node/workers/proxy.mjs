// A vox-crm/proxy in a worker thread (its own JS realm and wasm instance, as another process
// would be) whose traffic state lives in Redis: workerData { sandboxUrl, redisUrl, projectId,
// token }; posts { url } once it listens on loopback, and closes on any message.

import { createServer } from "node:http";
import { parentPort, workerData } from "node:worker_threads";
import { createClient } from "redis";
import { createProxyHandler, toNodeHandler } from "../../../dist/vox-crm/proxy.mjs";
import { redisStore } from "../../../dist/vox-crm/redis.mjs";

const redis = createClient({ url: workerData.redisUrl });
await redis.connect();
const handler = createProxyHandler({
  projectId: workerData.projectId,
  token: workerData.token,
  baseUrl: workerData.sandboxUrl,
  allow: ["initiateLead"],
  store: redisStore(redis),
});
const server = createServer(toNodeHandler(handler));
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
parentPort.postMessage({ url: `http://127.0.0.1:${server.address().port}` });
parentPort.once("message", async () => {
  server.closeAllConnections();
  server.close();
  await redis.quit();
  parentPort.close();
});
