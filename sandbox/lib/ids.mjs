// Owns ids and time stamps: 24-char lowercase hex MongoDB-style ObjectIds
// (4 bytes of seconds since the epoch, 5 random bytes per process, 3-byte counter), and ISO strings.
import { randomBytes } from "node:crypto";

const processPart = randomBytes(5).toString("hex");
let counter = randomBytes(3).readUIntBE(0, 3);

/** A new ObjectId string; ids made in the same second sort in creation order. */
export function objectId(nowMs = Date.now()) {
  counter = (counter + 1) % 0x1000000;
  const seconds = Math.floor(nowMs / 1000) >>> 0;
  return seconds.toString(16).padStart(8, "0") + processPart + counter.toString(16).padStart(6, "0");
}

const OBJECT_ID = /^[0-9a-f]{24}$/;

/** True for a 24-char lowercase hex string. */
export function isObjectId(value) {
  return typeof value === "string" && OBJECT_ID.test(value);
}

const isoCache = [NaN, "", NaN, ""]; // two slots: a bulk alternates between "now" and "now + call delay"
let isoSlot = 0;

/** ISO 8601 for an epoch-ms time; memoised, since a bulk stamps many records with the same times. */
export function isoTime(ms) {
  if (isoCache[0] === ms) return isoCache[1];
  if (isoCache[2] === ms) return isoCache[3];
  const text = new Date(ms).toISOString();
  isoCache[isoSlot] = ms;
  isoCache[isoSlot + 1] = text;
  isoSlot = 2 - isoSlot;
  return text;
}
