// Owns the lead as data: validating a lead input (docs/api.md §2, in the check order the sandbox promises),
// building a stored lead record, name splitting, metadata merging, and the JSON views of leads and
// activities that responses carry (with §3.4 masking).

import { isoTime } from "./ids.mjs";
import { checkPhone, maskPhone } from "./phone.mjs";

const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;

export const PHONE_DUPLICATE = "A call attempt has already been made to this phone number for this project";
export const emailDuplicate = (email) => `Lead with email ${email} already exists for this project`;
export const referenceDuplicate = (ref) => `Lead with referenceId ${ref} already exists for this project and process`;
export const processNotFound = (id) => `Process not found for lead with processId: ${id}`;
export const PROJECT_MISMATCH = "projectId does not match authenticated project";

const STRING_FIELDS = ["projectId", "processId", "name", "firstName", "lastName", "phone", "email", "referenceId", "groupId"];

const present = (v) => v !== undefined && v !== null;
const text = (v) => (typeof v === "string" ? v.trim() : "");

export const isPlainObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

/** Copies own enumerable keys of src into dst, never touching the prototype chain. */
export function mergeInto(dst, src) {
  for (const key of Object.keys(src)) {
    if (key === "__proto__") continue;
    dst[key] = src[key];
  }
  return dst;
}

/** "Ada King Lovelace" -> { firstName: "Ada", lastName: "King Lovelace" }. */
export function splitName(name) {
  const words = name.trim().split(/\s+/);
  const firstName = words[0];
  const lastName = words.slice(1).join(" ");
  return { firstName, lastName: lastName || undefined };
}

export function checkEmail(value) {
  const email = value.trim().toLowerCase();
  if (email.length > 254 || !EMAIL.test(email)) return { error: "Invalid email address" };
  return { email };
}

/**
 * Validates one lead input. ctx: { project, processes: Map(id -> process) of that project, store }.
 * Returns { fields } on success, else { status, error, plain?, duplicate? } where `plain` means the
 * error body has no `success` field (the project mismatch).
 */
export function validateLeadInput(input, ctx) {
  if (!isPlainObject(input)) return { status: 400, error: "Lead must be an object" };

  // 1. project
  if (!present(input.projectId) || input.projectId === "") return { status: 400, error: "projectId is required in lead object" };
  if (input.projectId !== ctx.project._id) return { status: 403, error: PROJECT_MISMATCH, plain: true };

  // 2. types
  for (const key of STRING_FIELDS) {
    if (present(input[key]) && typeof input[key] !== "string") return { status: 400, error: `${key} must be a string` };
  }
  if (present(input.metadata) && !isPlainObject(input.metadata)) return { status: 400, error: "metadata must be an object" };

  // 3. required fields
  const processId = text(input.processId);
  if (!processId) return { status: 400, error: "processId is required in lead object" };
  let name = text(input.name);
  let firstName = text(input.firstName);
  let lastName = text(input.lastName) || undefined;
  if (!name && !firstName) return { status: 400, error: "Either name or firstName is required" };
  const rawPhone = text(input.phone);
  const rawEmail = text(input.email);
  if (!rawPhone && !rawEmail) return { status: 400, error: "Either phone or email is required" };

  // 4. formats
  let phone;
  if (rawPhone) {
    const checked = checkPhone(rawPhone);
    if (checked.error) return { status: 400, error: checked.error };
    phone = checked.e164;
  }
  let email;
  if (rawEmail) {
    const checked = checkEmail(rawEmail);
    if (checked.error) return { status: 400, error: checked.error };
    email = checked.email;
  }

  // 5. process
  const process = ctx.processes.get(processId);
  if (!process) return { status: 404, error: processNotFound(processId) };

  // 6. duplicates
  const referenceId = text(input.referenceId) || undefined;
  const { store, project } = ctx;
  if (referenceId && store.findByReference(project._id, processId, referenceId)) {
    return { status: 400, error: referenceDuplicate(referenceId), duplicate: true };
  }
  if (phone && store.findByPhone(project._id, phone)) return { status: 400, error: PHONE_DUPLICATE, duplicate: true };
  if (email && store.findByEmail(project._id, email)) return { status: 400, error: emailDuplicate(email), duplicate: true };

  if (!firstName) {
    const split = splitName(name);
    firstName = split.firstName;
    lastName ??= split.lastName;
  }
  if (!name) name = lastName ? `${firstName} ${lastName}` : firstName;

  return {
    fields: {
      name,
      firstName,
      lastName,
      phone,
      email,
      projectId: project._id,
      processId,
      groupId: text(input.groupId) || undefined,
      referenceId,
      metadata: input.metadata ? mergeInto({}, input.metadata) : {},
    },
  };
}

/** A stored lead record from validated fields. */
export function newLeadRecord(_id, fields, nowMs) {
  const iso = isoTime(nowMs);
  return {
    _id,
    ...fields,
    currentState: "new",
    lastDisposition: null,
    source: "api",
    attempts: 0,
    createdAt: iso,
    updatedAt: iso,
    // internal (never in responses)
    createdMs: nowMs,
    updatedMs: nowMs,
    activityIds: [],
    callId: null,
  };
}

const LEAD_FIELDS = [
  "_id",
  "name",
  "firstName",
  "lastName",
  "phone",
  "email",
  "projectId",
  "processId",
  "groupId",
  "referenceId",
  "currentState",
  "lastDisposition",
  "metadata",
  "source",
  "attempts",
  "lastActivityId",
  "createdAt",
  "updatedAt",
];

/** The lead as responses carry it; absent optional fields are left out. */
export function leadView(lead, masked = false) {
  const out = {};
  for (const key of LEAD_FIELDS) {
    const v = key === "lastActivityId" ? lead.activityIds[lead.activityIds.length - 1] : lead[key];
    if (v !== undefined) out[key] = v;
  }
  if (masked && out.phone) out.phone = maskPhone(out.phone);
  return out;
}

/** The activity as responses carry it. */
export function activityView(activity, masked = false) {
  const out = { ...activity };
  if (masked && typeof out.phone === "string") out.phone = maskPhone(out.phone);
  return out;
}
