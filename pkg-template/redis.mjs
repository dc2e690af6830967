// vox-crm/redis: the traffic store in Redis (docs/store.md), for Node (server-side only).
//
//   import { createClient } from "redis";            // or: import Redis from "ioredis";
//   import { redisStore } from "vox-crm/redis";
//   const client = await createClient({ url }).connect();
//   const store = redisStore(client, { prefix: "vox", secret: process.env.VOX_STORE_SECRET });
//
// Every operation is one run of one Lua script (EVALSHA; after a NOSCRIPT reply, SCRIPT LOAD and
// EVALSHA again), so each decision is atomic across every process sharing the Redis. The lead
// keys are replaced by HMAC-SHA256 digests before they leave this process: neither a phone, an
// email, the token nor its salt is sent to Redis. Every key the script writes expires by itself.
import { createHash, createHmac } from "node:crypto";

// Keys, all under KEYS[1] = `${prefix}:{${ns}}:` (one hash slot per project):
//   fly   ZSET  ticket -> lease deadline (ms) of each request in flight
//   end   ZSET  ticket -> end (ms) of each ended request (and the entries a pause adds)
//   seq   STR   INCR counter naming tickets and pause entries
//   blk   STR   until (ms) of a key block
//   rej   LIST  times (ms) of the duplicate rejections, oldest first
//   s:<h> STR   time (ms) the lead key h was last marked submitted
//   k:<h> STR   "<until ms>|<JSON id>": h is known as created by that lead until then
// Times are the op's `now` or Redis TIME in ms (with the microseconds as a fraction).
const SCRIPT = `-- vox-crm traffic store (docs/store.md), one script for every op
local K = KEYS[1]
local op = cjson.decode(ARGV[1])
local FLY, END, SEQ, BLK, REJ = K .. 'fly', K .. 'end', K .. 'seq', K .. 'blk', K .. 'rej'

local function fail(msg) error({err = 'ERR vox-crm store: ' .. msg}) end
local function field(name, min)
  local v = op[name]
  if type(v) ~= 'number' or v ~= v or v < min or v == math.huge then
    fail(string.format('%s.%s must be a number >= %d', tostring(op.op), name, min))
  end
  return v
end
local function num(x) return string.format('%.17g', x) end
local function int(x) return string.format('%d', x) end
local function ceil_ms(x)
  local c = math.ceil(x)
  if c < 1 then c = 1 end
  return c
end
-- Extends the key's time to live to at least ms (never shortens it; a missing key stays missing).
local function keep(key, ms)
  local want = ceil_ms(ms)
  local ttl = redis.call('PTTL', key)
  if ttl ~= -2 and ttl < want then redis.call('PEXPIRE', key, want) end
end
-- The rate keys live together: seq outlives every ticket it named.
local function keep_rate(ms)
  keep(FLY, ms); keep(END, ms); keep(SEQ, ms)
end

local now
if type(op.now) == 'number' then
  now = op.now
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
end

local kind = op.op

if kind == 'acquire' then
  local requests, window, lease = field('requests', 0), field('windowMs', 0), field('leaseMs', 0)
  local b = redis.call('GET', BLK)
  if b and tonumber(b) > now then
    return '{"blockedMs":' .. int(ceil_ms(tonumber(b) - now)) .. '}'
  end
  -- A request whose lease ran out counts as ended at its deadline.
  local expired = redis.call('ZRANGEBYSCORE', FLY, '-inf', num(now), 'WITHSCORES')
  for i = 1, #expired, 2 do
    redis.call('ZADD', END, expired[i + 1], expired[i])
  end
  if #expired > 0 then redis.call('ZREMRANGEBYSCORE', FLY, '-inf', num(now)) end
  -- An ended request counts for windowMs after its end.
  redis.call('ZREMRANGEBYSCORE', END, '-inf', num(now - window))
  local flying, ended = redis.call('ZCARD', FLY), redis.call('ZCARD', END)
  local count = flying + ended
  local reply
  if count < requests then
    local ticket = tostring(redis.call('INCR', SEQ))
    redis.call('ZADD', FLY, num(now + lease), ticket)
    reply = '{"ticket":"' .. ticket .. '"}'
  else
    local excess = count - requests + 1
    if ended >= excess then
      local e = redis.call('ZRANGE', END, excess - 1, excess - 1, 'WITHSCORES')
      reply = '{"waitMs":' .. int(ceil_ms(tonumber(e[2]) + window - now)) .. '}'
    else
      reply = '{"waitMs":-1}'
    end
  end
  keep_rate(window + lease)
  return reply

elseif kind == 'complete' then
  local window = field('windowMs', 0)
  local ticket = op.ticket
  if type(ticket) ~= 'string' then fail('complete.ticket must be text') end
  -- Ended now, also after its lease ran out (or was forgotten): it counts for windowMs from now.
  redis.call('ZREM', FLY, ticket)
  redis.call('ZADD', END, num(now), ticket)
  keep_rate(window)
  return '{}'

elseif kind == 'pause' then
  local ms, requests, window = field('ms', 0), field('requests', 0), field('windowMs', 0)
  if ms > 0 and requests >= 1 then
    -- requests entries that ended at now + ms - windowMs: they count until now + ms.
    local id = tostring(redis.call('INCR', SEQ))
    local at = num(now + ms - window)
    local args, n = {}, 0
    for i = 1, requests do
      n = n + 1
      args[2 * n - 1] = at
      args[2 * n] = 'p' .. id .. '.' .. i
      if n == 256 or i == requests then
        redis.call('ZADD', END, unpack(args, 1, 2 * n))
        args, n = {}, 0
      end
    end
    keep_rate(ms)
  end
  return '{}'

elseif kind == 'block' then
  local ms = field('ms', 0)
  if ms > 0 then
    local untl = now + ms
    local b = redis.call('GET', BLK)
    -- A shorter block never cuts a longer one short.
    if not b or tonumber(b) < untl then
      redis.call('SET', BLK, num(untl), 'PX', ceil_ms(ms))
    end
  end
  return '{}'

elseif kind == 'claim' then
  local max, window, dup = field('max', 0), field('windowMs', 0), field('dupMs', 0)
  local leads = op.leads
  if type(leads) ~= 'table' then fail('claim.leads must be an array') end
  -- Rejections older than windowMs are forgotten.
  local cut = now - window
  while true do
    local h = redis.call('LINDEX', REJ, 0)
    if h and tonumber(h) <= cut then redis.call('LPOP', REJ) else break end
  end
  local rejections = redis.call('LLEN', REJ)
  if rejections >= max then
    local h = redis.call('LINDEX', REJ, 0)
    local wait = window
    if h then wait = tonumber(h) + window - now end
    return '{"budgetMs":' .. int(ceil_ms(wait)) .. ',"remaining":0}'
  end
  local out, taken = {}, {}
  for li = 1, #leads do
    local keys = leads[li]
    if type(keys) ~= 'table' then fail('claim.leads must be arrays of keys') end
    local answer
    for i = 1, #keys do
      local v = redis.call('GET', K .. 'k:' .. keys[i])
      if v then
        local sep = string.find(v, '|', 1, true)
        if sep and tonumber(string.sub(v, 1, sep - 1)) > now then
          answer = '{"key":' .. int(i - 1) .. ',"id":' .. string.sub(v, sep + 1) .. '}'
          break
        end
      end
    end
    if not answer then
      for i = 1, #keys do
        local k = keys[i]
        if taken[k] then
          answer = '{"key":' .. int(i - 1) .. '}'
          break
        end
        local v = redis.call('GET', K .. 's:' .. k)
        if v and tonumber(v) > now - dup then
          answer = '{"key":' .. int(i - 1) .. '}'
          break
        end
      end
    end
    if not answer then
      for i = 1, #keys do
        taken[keys[i]] = true
        if dup > 0 then redis.call('SET', K .. 's:' .. keys[i], num(now), 'PX', ceil_ms(dup)) end
      end
      answer = 'null'
    end
    out[li] = answer
  end
  return '{"leads":[' .. table.concat(out, ',') .. '],"remaining":' .. int(max - rejections) .. '}'

elseif kind == 'settle' then
  local dup, window, known = field('dupMs', 0), field('windowMs', 0), field('knownMs', 0)
  local leads = op.leads
  if type(leads) ~= 'table' then fail('settle.leads must be an array') end
  local function mark(keys)
    if dup > 0 then
      for i = 1, #keys do redis.call('SET', K .. 's:' .. keys[i], num(now), 'PX', ceil_ms(dup)) end
    end
  end
  local rejected = false
  for li = 1, #leads do
    local item = leads[li]
    local keys = type(item) == 'table' and item.keys
    if type(keys) ~= 'table' then fail('settle.leads[].keys must be an array of keys') end
    if item.created ~= nil and item.created ~= cjson.null then
      mark(keys)
      if known > 0 then
        local v = num(now + known) .. '|' .. cjson.encode(item.created)
        for i = 1, #keys do redis.call('SET', K .. 'k:' .. keys[i], v, 'PX', ceil_ms(known)) end
      end
    elseif item.duplicate == true then
      mark(keys)
      redis.call('RPUSH', REJ, num(now))
      rejected = true
    elseif item.release == true then
      for i = 1, #keys do redis.call('DEL', K .. 's:' .. keys[i]) end
    end
  end
  if rejected then keep(REJ, window) end
  return '{}'
end

fail('unknown op ' .. cjson.encode(kind))
`;

const SHA = createHash("sha1").update(SCRIPT).digest("hex");

/** The fields each op may carry to Redis (never `salt`). */
const FIELDS = {
  acquire: ["requests", "windowMs", "leaseMs"],
  complete: ["ticket", "windowMs"],
  pause: ["ms", "requests", "windowMs"],
  block: ["ms"],
  claim: ["leads", "max", "windowMs", "dupMs"],
  settle: ["leads", "dupMs", "windowMs", "knownMs"],
};

function describe(v) {
  if (v === null) return "null";
  if (typeof v !== "object" && typeof v !== "function") return typeof v;
  const name = v.constructor && v.constructor.name;
  return name ? `an object (${name})` : "an object";
}

/** (args, routingKey) => Promise<reply> for the client's kind; throws a TypeError for anything else. */
function senderFor(client) {
  // Clients are objects (a function's own `call` is Function.prototype.call, not ioredis').
  const isObject = client !== null && typeof client === "object";
  if (isObject && typeof client.call === "function" && client.call !== Function.prototype.call) {
    // ioredis (Redis or Cluster): call(command, ...args); a Cluster routes EVALSHA by its key.
    return { kind: "ioredis", send: (args) => client.call(...args) };
  }
  if (isObject && typeof client.sendCommand === "function") {
    if (typeof client.getSlotMaster === "function" || typeof client.nodeClient === "function") {
      // node-redis cluster: sendCommand(firstKey, isReadonly, args).
      return { kind: "node-redis cluster", send: (args, key) => client.sendCommand(key, false, args) };
    }
    return { kind: "node-redis", send: (args) => client.sendCommand(args) };
  }
  throw new TypeError(
    `redisStore(client): client must be a connected node-redis client (createClient() from "redis" v4 or v5, ` +
      `which has sendCommand) or an ioredis client (new Redis() from "ioredis", which has call); got ${describe(client)}`,
  );
}

const isNoScript = (e) => e != null && typeof e.message === "string" && e.message.startsWith("NOSCRIPT");

function text(reply) {
  if (typeof reply === "string") return reply;
  if (reply instanceof Uint8Array) return Buffer.from(reply).toString("utf8");
  throw new TypeError(`vox-crm/redis: unexpected reply from Redis: ${describe(reply)}`);
}

/**
 * A traffic store in Redis for VoxClient's `store` option.
 * @param {object} client a connected node-redis (v4/v5) or ioredis client
 * @param {{prefix?: string, secret?: string}} [options]
 */
export function redisStore(client, options = {}) {
  const { send } = senderFor(client);
  if (options === null || typeof options !== "object") {
    throw new TypeError(`redisStore(client, options): options must be an object; got ${describe(options)}`);
  }
  const prefix = options.prefix ?? "vox";
  if (typeof prefix !== "string" || prefix === "") {
    throw new TypeError(`redisStore: options.prefix must be non-empty text; got ${describe(prefix)}`);
  }
  const secret = options.secret ?? "";
  if (typeof secret !== "string") {
    throw new TypeError(`redisStore: options.secret must be text; got ${describe(secret)}`);
  }

  const hashKeys = (keys, salt) => {
    if (!Array.isArray(keys)) throw new TypeError("vox-crm/redis: a lead's keys must be an array");
    return keys.map((k) => {
      if (typeof k !== "string") throw new TypeError("vox-crm/redis: lead keys must be text");
      return createHmac("sha256", `${secret}:${salt}`).update(k).digest("base64url").slice(0, 22);
    });
  };

  /** The op as it goes to Redis: known fields only, lead keys hashed, no salt. */
  function wire(op) {
    if (op === null || typeof op !== "object") throw new TypeError(`store.apply(op): op must be an object; got ${describe(op)}`);
    const fields = FIELDS[op.op];
    if (!fields) throw new TypeError(`store.apply(op): unknown op ${JSON.stringify(op.op)}`);
    if (typeof op.ns !== "string" || op.ns === "") throw new TypeError("store.apply(op): op.ns must be non-empty text");
    const out = { op: op.op };
    if (typeof op.now === "number") out.now = op.now;
    for (const f of fields) if (op[f] !== undefined) out[f] = op[f];
    if (op.op === "claim" || op.op === "settle") {
      if (typeof op.salt !== "string") throw new TypeError(`store.apply(op): ${op.op} needs op.salt (text)`);
      if (!Array.isArray(op.leads)) throw new TypeError(`store.apply(op): ${op.op}.leads must be an array`);
      out.leads = op.op === "claim"
        ? op.leads.map((keys) => hashKeys(keys, op.salt))
        : op.leads.map((item) => {
          if (item === null || typeof item !== "object") throw new TypeError("store.apply(op): settle.leads items must be objects");
          const o = { keys: hashKeys(item.keys, op.salt) };
          if (item.created !== undefined && item.created !== null) o.created = item.created;
          if (item.duplicate === true) o.duplicate = true;
          if (item.release === true) o.release = true;
          return o;
        });
    }
    return out;
  }

  async function run(key, json) {
    const evalsha = () => send(["EVALSHA", SHA, "1", key, json], key);
    try {
      return await evalsha();
    } catch (e) {
      if (!isNoScript(e)) throw e;
    }
    // The script cache is empty (a restarted Redis, SCRIPT FLUSH, another cluster node).
    await send(["SCRIPT", "LOAD", SCRIPT], key);
    try {
      return await evalsha();
    } catch (e) {
      // A cluster client may have sent SCRIPT LOAD to another node: EVAL goes where the key is.
      if (!isNoScript(e)) throw e;
      return await send(["EVAL", SCRIPT, "1", key, json], key);
    }
  }

  return {
    kind: "redis",
    async apply(op) {
      const w = wire(op);
      const key = `${prefix}:{${op.ns}}:`;
      return JSON.parse(text(await run(key, JSON.stringify(w))));
    },
  };
}

/** The Lua script and its SHA1 (for tests and for preloading with SCRIPT LOAD). */
export const script = { source: SCRIPT, sha: SHA };
