// vox-crm/redis: the traffic store in Redis (Node only). See docs/store.md for the operations.

/** A connected node-redis client (v4 or v5, `createClient()` from "redis"): anything with `sendCommand(args)`. */
export interface NodeRedisClientLike {
  sendCommand(args: string[]): Promise<unknown>;
}

/** A connected node-redis cluster (`createCluster()` from "redis"). */
export interface NodeRedisClusterLike {
  sendCommand(firstKey: string | undefined, isReadonly: boolean | undefined, args: string[]): Promise<unknown>;
  getSlotMaster(slot: number): unknown;
}

/** A connected ioredis client or cluster (`new Redis()` / `new Redis.Cluster()` from "ioredis"). */
export interface IoRedisClientLike {
  call(command: string, ...args: (string | number)[]): Promise<unknown>;
}

export type RedisClientLike = NodeRedisClientLike | NodeRedisClusterLike | IoRedisClientLike;

export interface RedisStoreOptions {
  /** The first part of every key: `${prefix}:{${ns}}:…`. Default "vox" (docs/sdk.md: keys start "vox:"). */
  prefix?: string;
  /**
   * Mixed into the HMAC of each lead key (with the salt derived from the API token), so that
   * someone who can read the Redis but does not know the secret cannot test a phone or an email
   * against it even with the token. Default: none.
   */
  secret?: string;
}

/** Every operation's common fields. */
interface StoreOpBase {
  /** The namespace of the project's state (a hash of the base URL and the project id). */
  ns: string;
  /** 16 hex digits derived from the API token; keys the lead keys' hashes. Never sent to Redis. */
  salt: string;
  /** A fixed clock (ms) instead of Redis TIME: for tests only. */
  now?: number;
}

/** A lead key: 16 lowercase hex digits (a hash of `phone:<E.164>` or `email:<lowercase>`). */
export type LeadKey = string;

export interface AcquireOp extends StoreOpBase {
  op: "acquire";
  requests: number;
  windowMs: number;
  leaseMs: number;
}
export interface CompleteOp extends StoreOpBase {
  op: "complete";
  ticket: string;
  windowMs: number;
}
export interface PauseOp extends StoreOpBase {
  op: "pause";
  ms: number;
  requests: number;
  windowMs: number;
}
export interface BlockOp extends StoreOpBase {
  op: "block";
  ms: number;
}
export interface ClaimOp extends StoreOpBase {
  op: "claim";
  leads: LeadKey[][];
  max: number;
  windowMs: number;
  dupMs: number;
}
export type SettleItem = { keys: LeadKey[]; created: string } | { keys: LeadKey[]; duplicate: true } | { keys: LeadKey[]; release: true };
export interface SettleOp extends StoreOpBase {
  op: "settle";
  leads: SettleItem[];
  dupMs: number;
  windowMs: number;
  knownMs: number;
}

export type StoreOp = AcquireOp | CompleteOp | PauseOp | BlockOp | ClaimOp | SettleOp;

/** A slot was taken. */
export interface TicketReply {
  ticket: string;
}
/** Try again after waitMs; -1: every slot is taken by a request in flight, try again after one ends. */
export interface WaitReply {
  waitMs: number;
}
/** The API key is blocked for that long. */
export interface BlockedReply {
  blockedMs: number;
}
export type AcquireReply = TicketReply | WaitReply | BlockedReply;

/**
 * One entry per lead: null (claimed), {key, id} (key `key` of the lead belongs to the lead `id`
 * this project created), {key} (key `key` was submitted recently or is in flight).
 */
export type ClaimLeadReply = null | { key: number; id: string } | { key: number };
export type ClaimReply = { leads: ClaimLeadReply[]; remaining: number } | { budgetMs: number; remaining: 0 };
/** complete, pause, block and settle answer an empty object. */
export type EmptyReply = Record<string, never>;

export type StoreReply = AcquireReply | ClaimReply | EmptyReply;

/** The reply type of an operation type. */
export type ReplyOf<O extends StoreOp> = O extends AcquireOp ? AcquireReply : O extends ClaimOp ? ClaimReply : EmptyReply;

export interface RedisStore {
  readonly kind: "redis";
  /** Runs one operation atomically in Redis (one EVALSHA). */
  apply<O extends StoreOp>(op: O): Promise<ReplyOf<O>>;
}

/**
 * A traffic store in Redis: every process and machine that uses the same Redis, prefix and
 * project shares one rate window, one duplicate budget and one index of created leads.
 * Throws a TypeError unless `client` is a node-redis or ioredis client.
 */
export function redisStore(client: RedisClientLike, options?: RedisStoreOptions): RedisStore;

/** The Lua script that implements every operation, and its SHA1 (e.g. to preload it with SCRIPT LOAD). */
export const script: { readonly source: string; readonly sha: string };
