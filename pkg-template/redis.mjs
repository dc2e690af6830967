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
//   fly    ZSET  ticket -> lease deadline (ms) of each request in flight
//   end    ZSET  ticket -> end (ms) of each ended request (and the entries a pause adds)
//   seq    STR   INCR counter naming tickets and pause entries
//   blk    STR   until (ms) of a key block
//   rej    LIST  times (ms) of the duplicate rejections, oldest first
//   lk:<n> HASH  generation n of the lead keys: h -> "<t>" (h was marked submitted at t), or
//                "<t>|<until>|<JSON id>" (and is known as created by that lead until then; <t> is
//                empty when it is not marked). A claim reads every key of the call with one HMGET
//                per generation and writes its marks with one HSET; a settle writes with one HSET.
//   lg     STR   "<n> <start> <span> <end> <prevEnd>": the current generation n, when it started,
//                the longest horizon (ms) of what was written into it, the latest end (ms) of
//                those entries, and of generation n-1's ("-": none). Writes go to generation n;
//                a key's entry there hides its entry in n-1 (so a write that keeps part of an
//                entry reads both first). Generation n-1 is dropped whole (UNLINK) once every
//                entry in it is past its horizon; once n-1 is gone and n has been current for its
//                span, n becomes n-1 and a new n starts (or n is dropped, if all of it is past).
//                Entries past their horizon are never answered; their memory is given back by
//                generation, within about twice the longest horizon.
// A lead key h is the HMAC digest of the core's key (22 base64url characters), never the key.
// Every key's PEXPIRE covers the longest horizon of what it holds (set on every write, never
// shorter than an entry's): a project left alone disappears by itself.
// Claim and settle get their lead keys as ARGV[2..] (ARGV[1] is the op's JSON without them).
// Times are the op's `now` or Redis TIME in ms (with the microseconds as a fraction).
const SCRIPT = `-- vox-crm traffic store (docs/store.md), one script for every op
local K = KEYS[1]
local op = cjson.decode(ARGV[1])
local FLY, END, SEQ, BLK, REJ = K .. 'fly', K .. 'end', K .. 'seq', K .. 'blk', K .. 'rej'
local LG = K .. 'lg'

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

-- Commands over many arguments, a bounded number per call (unpack's limit is about 8000 values).
local CHUNK = 6000
-- redis.call(cmd, key, list[from..to]) in chunks, the replies joined (HMGET): index 1 is list[from]'s.
local function read_many(cmd, key, list, from, to)
  if to < from then return {} end
  if to - from < CHUNK then return redis.call(cmd, key, unpack(list, from, to)) end
  local out, m = {}, 0
  for i = from, to, CHUNK do
    local r = redis.call(cmd, key, unpack(list, i, math.min(i + CHUNK - 1, to)))
    for j = 1, #r do m = m + 1; out[m] = r[j] end
  end
  return out
end
-- redis.call(cmd, key, list[1..n]) in chunks of whole groups of group arguments (HSET: 2).
local function write_many(cmd, key, list, n, group)
  local per = CHUNK - CHUNK % group
  for i = 1, n, per do redis.call(cmd, key, unpack(list, i, math.min(i + per - 1, n))) end
end

-- The generations of the lead keys (see lg above): G.cur is written and read, G.prev only read.
local G
local function gen_key(n) return K .. 'lk:' .. int(n) end
local function load_gens()
  local n, start, span, last, prev_end = 0, now, 0, nil, nil
  local v = redis.call('GET', LG)
  if v then
    local a, b, c, d, e = string.match(v, '^(%S+) (%S+) (%S+) (%S+) (%S+)$')
    if a then
      n, start, span, last, prev_end = tonumber(a), tonumber(b), tonumber(c), tonumber(d), tonumber(e)
    end
  end
  local dirty = false
  if prev_end and now >= prev_end then
    -- Every entry of generation n-1 is past its horizon.
    redis.call('UNLINK', gen_key(n - 1))
    prev_end, dirty = nil, true
  end
  if last and not prev_end and now >= start + span then
    if now >= last then
      redis.call('UNLINK', gen_key(n)) -- all of it is past its horizon too
    else
      prev_end, n = last, n + 1
    end
    start, span, last, dirty = now, 0, nil, true
  end
  G = { n = n, start = start, span = span, last = last, prev_end = prev_end, dirty = dirty,
        cur = gen_key(n), prev = prev_end and gen_key(n - 1) or nil }
end
-- Entries that live for ms from now were written into G.cur.
local function wrote(ms)
  if ms > G.span then G.span = ms end
  if not G.last or now + ms > G.last then G.last = now + ms end
  G.dirty, G.written = true, true
end
local function save_gens()
  if G.written then redis.call('PEXPIRE', G.cur, ceil_ms(G.last - now)) end
  if not G.dirty then return end
  local top = math.max(G.last or now, G.prev_end or now)
  if top <= now then redis.call('DEL', LG); return end
  local function opt(x) if x then return num(x) end return '-' end
  redis.call('SET', LG, int(G.n) .. ' ' .. num(G.start) .. ' ' .. num(G.span) .. ' ' .. opt(G.last) .. ' ' .. opt(G.prev_end),
    'PX', ceil_ms(top - now))
end
-- The number of keys of each lead: op.n is either that number for every lead (then the leads
-- are the keys / n) or an array of one number per lead; checked against the keys in
-- ARGV[2 .. 1 + total], followed by extra values. Returns counts (nil: all are width), width,
-- the number of leads and the total of keys.
local function lead_counts(name, extra)
  local n, keys = op.n, #ARGV - 1 - extra
  if type(n) == 'number' then
    if n < 1 or n % 1 ~= 0 or keys < 0 or keys % n ~= 0 then fail(name .. ': the lead keys do not match the leads') end
    return nil, n, keys / n, keys
  end
  if type(n) ~= 'table' then fail(name .. '.leads must be an array') end
  local total = 0
  for li = 1, #n do
    local c = n[li]
    if type(c) ~= 'number' or c < 0 or c % 1 ~= 0 then fail(name .. '.leads must be arrays of keys') end
    total = total + c
  end
  if total ~= keys then fail(name .. ': the lead keys do not match the leads') end
  return n, nil, #n, total
end
-- The known part "|<until>|<JSON id>" of an entry, if its until has not passed, and the until.
local function known_part(v)
  if not v then return nil end
  local a = string.find(v, '|', 1, true)
  if not a then return nil end
  local b = string.find(v, '|', a + 1, true)
  local u = b and tonumber(string.sub(v, a + 1, b - 1))
  if u and u > now then return string.sub(v, a), u end
  return nil
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
  local counts, width, nl, nk = lead_counts('claim', 0)
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
  load_gens()
  -- Every key's entry, one HMGET per generation; a key's entry in cur hides the one in prev.
  local cur, prev = {}, nil
  if nk > 0 then
    cur = read_many('HMGET', G.cur, ARGV, 2, nk + 1)
    if G.prev then prev = read_many('HMGET', G.prev, ARGV, 2, nk + 1) end
  end
  -- Keys claimed by this call (op.u: the call's keys are all distinct, none can repeat).
  local taken = nil
  if op.u ~= true then taken = {} end
  local find, sub = string.find, string.sub
  local out, marks, nm = {}, {}, 0
  local recent, mark = now - dup, num(now)
  local pos = 0 -- lead li's keys: entries pos+1 .. pos+c, ARGV[pos+2 .. pos+c+1]
  for li = 1, nl do
    local c = width or counts[li]
    local seen = false
    for j = pos + 1, pos + c do
      if cur[j] or (prev and prev[j]) or (taken and taken[ARGV[j + 1]]) then seen = true; break end
    end
    local answer
    if seen then
      -- A key known as created answers {key, id}.
      for i = 1, c do
        local v = cur[pos + i] or (prev and prev[pos + i])
        if v and find(v, '|', 1, true) then
          local kp = known_part(v)
          if kp then
            answer = '{"key":' .. int(i - 1) .. ',"id":' .. sub(kp, find(kp, '|', 2, true) + 1) .. '}'
            break
          end
        end
      end
      -- Else a key submitted within dupMs, or claimed earlier in this call, answers {key}.
      if not answer then
        for i = 1, c do
          if taken and taken[ARGV[pos + i + 1]] then
            answer = '{"key":' .. int(i - 1) .. '}'
            break
          end
          local v = cur[pos + i] or (prev and prev[pos + i])
          if v then
            local a = find(v, '|', 1, true)
            local t = tonumber(a and sub(v, 1, a - 1) or v)
            if t and t > recent then
              answer = '{"key":' .. int(i - 1) .. '}'
              break
            end
          end
        end
      end
    end
    if answer then
      out[li] = answer
    else
      -- The lead is claimed: its keys are marked submitted now. (None of them is known.)
      for i = pos + 2, pos + c + 1 do
        local k = ARGV[i]
        marks[nm + 1] = k; marks[nm + 2] = mark; nm = nm + 2
        if taken then taken[k] = true end
      end
      out[li] = 'null'
    end
    pos = pos + c
  end
  if dup > 0 and nm > 0 then
    write_many('HSET', G.cur, marks, nm, 2)
    wrote(dup)
  end
  save_gens()
  return '{"leads":[' .. table.concat(out, ',') .. '],"remaining":' .. int(max - rejections) .. '}'

elseif kind == 'settle' then
  local dup, window, known = field('dupMs', 0), field('windowMs', 0), field('knownMs', 0)
  -- One letter per lead: c created (its id's JSON is the next ARGV after the keys), d duplicate,
  -- r release, - none of them.
  local kinds = op.k
  if type(kinds) ~= 'string' then fail('settle.leads must be an array of {keys, created | duplicate | release}') end
  local _, created = string.gsub(kinds, 'c', '')
  local counts, width, nl, nk = lead_counts('settle', created)
  if nl ~= #kinds then fail('settle: the lead keys do not match the leads') end
  load_gens()
  local nowv, untilv = num(now), num(now + known)
  local markv = ''
  if dup > 0 then markv = nowv end
  local idx = nk + 2 -- ARGV index of the next created lead's id
  local sets, ns = {}, 0
  local rejected = 0
  if known > 0 and not string.find(kinds, '[^c]') then
    -- Only created leads: each key's entry is replaced (the last one wins, as in order).
    local pos = 2
    for li = 1, nl do
      local c = width or counts[li]
      local v = markv .. '|' .. untilv .. '|' .. ARGV[idx]
      idx = idx + 1
      for i = pos, pos + c - 1 do sets[ns + 1] = ARGV[i]; sets[ns + 2] = v; ns = ns + 2 end
      pos = pos + c
    end
    if ns > 0 then wrote(math.max(known, dup)) end
  else
    -- Duplicates and releases keep a key's known part: they read the keys' entries first.
    local need, nn, at = {}, 0, {}
    do
      local pos = 2
      for li = 1, nl do
        local c, how = width or counts[li], string.sub(kinds, li, li)
        if how == 'r' or ((how == 'd' or (how == 'c' and known == 0)) and dup > 0) then
          for i = pos, pos + c - 1 do nn = nn + 1; need[nn] = ARGV[i]; at[i] = nn end
        end
        pos = pos + c
      end
    end
    local cur, prev = {}, nil
    if nn > 0 then
      cur = read_many('HMGET', G.cur, need, 1, nn)
      if G.prev then prev = read_many('HMGET', G.prev, need, 1, nn) end
    end
    -- Each key's entry as the leads so far left it (false: none): with op.u every key occurs once
    -- and goes straight to sets or gone; else the entries are gathered first, in order touched.
    local gone, ng = {}, 0
    local entry, order, no = nil, nil, 0
    if op.u ~= true then entry, order = {}, {} end
    local function current(k, i)
      if entry then
        local v = entry[k]
        if v ~= nil then return v end
      end
      local j = at[i]
      return (j and (cur[j] or (prev and prev[j]))) or false
    end
    local function set(k, v)
      if entry then
        if entry[k] == nil then no = no + 1; order[no] = k end
        entry[k] = v
      elseif v then
        sets[ns + 1] = k; sets[ns + 2] = v; ns = ns + 2
      else
        ng = ng + 1; gone[ng] = k
      end
    end
    local pos = 2
    for li = 1, nl do
      local c, how = width or counts[li], string.sub(kinds, li, li)
      if how == 'c' and known > 0 then
        local v = markv .. '|' .. untilv .. '|' .. ARGV[idx]
        for i = pos, pos + c - 1 do set(ARGV[i], v) end
        wrote(math.max(known, dup))
      elseif (how == 'c' or how == 'd') and dup > 0 then
        -- Marked submitted now; a known part stays.
        for i = pos, pos + c - 1 do
          local k = ARGV[i]
          local kp, u = known_part(current(k, i))
          set(k, nowv .. (kp or ''))
          if u then wrote(u - now) end
        end
        wrote(dup)
      elseif how == 'r' then
        -- No longer marked submitted; a known part stays.
        for i = pos, pos + c - 1 do
          local k = ARGV[i]
          local kp, u = known_part(current(k, i))
          if kp then set(k, kp); wrote(u - now) else set(k, false) end
        end
      end
      if how == 'c' then idx = idx + 1 end
      if how == 'd' then rejected = rejected + 1 end
      pos = pos + c
    end
    for j = 1, no do
      local k = order[j]
      local v = entry[k]
      if v then sets[ns + 1] = k; sets[ns + 2] = v; ns = ns + 2 else ng = ng + 1; gone[ng] = k end
    end
    if ng > 0 then
      write_many('HDEL', G.cur, gone, ng, 1)
      if G.prev then write_many('HDEL', G.prev, gone, ng, 1) end
    end
  end
  if ns > 0 then write_many('HSET', G.cur, sets, ns, 2) end
  save_gens()
  if rejected > 0 then
    local t, args = num(now), {}
    for i = 1, rejected do args[i] = t end
    write_many('RPUSH', REJ, args, rejected, 1)
    keep(REJ, window)
  end
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
  const name = v.constructor?.name;
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

  /** The op's ARGV: its JSON (known fields only, no salt, no lead keys), then the lead keys hashed. */
  function wire(op) {
    if (op === null || typeof op !== "object") throw new TypeError(`store.apply(op): op must be an object; got ${describe(op)}`);
    const fields = FIELDS[op.op];
    if (!fields) throw new TypeError(`store.apply(op): unknown op ${JSON.stringify(op.op)}`);
    if (typeof op.ns !== "string" || op.ns === "") throw new TypeError("store.apply(op): op.ns must be non-empty text");
    const out = { op: op.op };
    if (typeof op.now === "number") out.now = op.now;
    for (const f of fields) if (op[f] !== undefined) out[f] = op[f];
    if (op.op !== "claim" && op.op !== "settle") return [JSON.stringify(out)];
    if (typeof op.salt !== "string") throw new TypeError(`store.apply(op): ${op.op} needs op.salt (text)`);
    if (!Array.isArray(op.leads)) throw new TypeError(`store.apply(op): ${op.op}.leads must be an array`);
    // The lead keys go as ARGV of their own after the op's JSON (no JSON to decode in Lua):
    // out.n gives each lead's number of keys; out.u says that no key occurs twice.
    const keys = [];
    const n = [];
    const ids = [];
    let kinds = "";
    for (const item of op.leads) {
      let lead = item;
      if (op.op === "settle") {
        if (item === null || typeof item !== "object") throw new TypeError("store.apply(op): settle.leads items must be objects");
        lead = item.keys;
        const id = item.created !== undefined && item.created !== null ? JSON.stringify(item.created) : undefined;
        if (id !== undefined) {
          kinds += "c";
          ids.push(id);
        } else kinds += item.duplicate === true ? "d" : item.release === true ? "r" : "-";
      }
      const hashed = hashKeys(lead, op.salt);
      n.push(hashed.length);
      for (const h of hashed) keys.push(h);
    }
    // One number when every lead has that many keys (the client's leads), else one per lead.
    out.n = n.length > 0 && n[0] > 0 && n.every((c) => c === n[0]) ? n[0] : n;
    if (op.op === "settle") out.k = kinds;
    out.u = new Set(keys).size === keys.length;
    delete out.leads;
    return [JSON.stringify(out), ...keys, ...ids];
  }

  async function run(key, argv) {
    const evalsha = () => send(["EVALSHA", SHA, "1", key, ...argv], key);
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
      return await send(["EVAL", SCRIPT, "1", key, ...argv], key);
    }
  }

  return {
    kind: "redis",
    async apply(op) {
      const w = wire(op);
      const key = `${prefix}:{${op.ns}}:`;
      return JSON.parse(text(await run(key, w)));
    },
  };
}

/** The Lua script and its SHA1 (for tests and for preloading with SCRIPT LOAD). */
export const script = { source: SCRIPT, sha: SHA };
