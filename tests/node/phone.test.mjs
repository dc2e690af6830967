// The synchronous functions: validatePhone, validatePhones, normalizePhone, maskPhone, validateLead.
// No sandbox: these never touch the network.

import assert from "node:assert/strict";
import { test } from "node:test";
import { assertPlain, maskPhone, normalizePhone, SALES, VoxError, validateLead, validatePhone, validatePhones } from "./helpers.mjs";

/** Asserts fn throws a VoxError with `code` synchronously. */
function throwsVox(fn, code, label) {
  let err;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err !== undefined, `${label}: expected a VoxError "${code}", but nothing was thrown`);
  assert.ok(err instanceof VoxError, `${label}: a VoxError, got ${err}`);
  assert.ok(err instanceof Error, `${label}: an Error`);
  assert.equal(err.code, code, `${label}: code (message: ${err.message})`);
  assert.ok(typeof err.message === "string" && err.message.length >= 8, `${label}: a helpful message`);
  return err;
}

// ---- validatePhone --------------------------------------------------------------------------------------

test("validatePhone: a valid Indian mobile number has e164, countryCode 91, region IN and nationalNumber", () => {
  const check = validatePhone("9845317206");
  assertPlain(check, "PhoneCheck");
  assert.deepEqual(
    { valid: check.valid, e164: check.e164, countryCode: check.countryCode, region: check.region, nationalNumber: check.nationalNumber },
    { valid: true, e164: "+919845317206", countryCode: 91, region: "IN", nationalNumber: "9845317206" },
  );
  assert.equal(check.reason, undefined, "no reason when valid");
});

test("validatePhone: the usual ways of writing an Indian number are all the same number", () => {
  for (const input of [
    "+919845317206",
    "+91 98453 17206",
    "+91-98453-17206",
    "919845317206",
    "09845317206",
    "098453 17206",
    "98453-17206",
    "(98453) 17206",
    " 9845317206 ",
  ]) {
    const check = validatePhone(input);
    assert.equal(check.valid, true, `${JSON.stringify(input)} is valid: ${JSON.stringify(check)}`);
    assert.equal(check.e164, "+919845317206", `${JSON.stringify(input)} e164`);
  }
});

test("validatePhone: the vendor's example 8888833333 is valid", () => {
  const check = validatePhone("8888833333");
  assert.equal(check.valid, true, JSON.stringify(check));
  assert.equal(check.e164, "+918888833333");
});

test("validatePhone: other countries by their calling code and by defaultCountry", () => {
  const us = validatePhone("+1 201-555-0123");
  assert.equal(us.valid, true, JSON.stringify(us));
  assert.equal(us.e164, "+12015550123");
  assert.equal(us.countryCode, 1);
  assert.equal(us.region, "US");
  assert.equal(us.nationalNumber, "2015550123");
  const gb = validatePhone("+44 7400 123456");
  assert.equal(gb.valid, true, JSON.stringify(gb));
  assert.equal(gb.e164, "+447400123456");
  assert.equal(gb.countryCode, 44);
  assert.equal(gb.region, "GB");
  const usLocal = validatePhone("(201) 555-0123", { defaultCountry: "US" });
  assert.equal(usLocal.valid, true, JSON.stringify(usLocal));
  assert.equal(usLocal.e164, "+12015550123");
  assert.equal(usLocal.region, "US");
});

const REASONS = [
  ["", "empty"],
  ["   ", "empty"],
  ["98a4531720", "invalid_characters"],
  ["98453#17206", "invalid_characters"],
  ["+999 1234567", "invalid_country_code"],
  ["98453", "too_short"],
  ["+91 98453172061234", "too_long"],
  ["9999999999", "repeating_digits"],
  ["9898989898", "repeating_digits"],
  ["9879879879", "repeating_digits"],
  ["9000000012", "repeating_digits"],
  ["9876543210", "sequential_digits"],
  ["+91 98765 43210", "sequential_digits"],
];

for (const [input, reason] of REASONS) {
  test(`validatePhone(${JSON.stringify(input)}) is invalid: ${reason}`, () => {
    const check = validatePhone(input);
    assert.equal(check.valid, false, `${JSON.stringify(input)}: ${JSON.stringify(check)}`);
    assert.equal(check.reason, reason, `${JSON.stringify(input)}: ${JSON.stringify(check)}`);
    assert.equal(check.e164, undefined);
    assert.equal(typeof check.message, "string");
  });
}

test("validatePhone: numbers that are not real numbers are invalid", () => {
  for (const input of ["1234567890", "0987654321", "+91 1234567890", "12345"]) {
    const check = validatePhone(input);
    assert.equal(check.valid, false, `${JSON.stringify(input)}: ${JSON.stringify(check)}`);
    assert.ok(check.reason, "with a reason");
  }
});

test("validatePhone: the message is a sentence that tells the reasons apart", () => {
  const messages = new Map();
  for (const [input, reason] of REASONS) {
    const { message } = validatePhone(input);
    assert.ok(typeof message === "string" && message.length >= 15 && /\s/.test(message), `a sentence for ${reason}, got ${JSON.stringify(message)}`);
    if (!messages.has(reason)) messages.set(reason, message);
  }
  const distinct = new Set(messages.values());
  assert.equal(distinct.size, messages.size, `one message per reason, got ${JSON.stringify([...messages])}`);
});

// ---- validatePhones -------------------------------------------------------------------------------------

test("validatePhones gives the same verdicts as validatePhone, in order", () => {
  const inputs = [
    "9845317206",
    "+91 98453 17206",
    "8888833333",
    "",
    "98a4531720",
    "+999 1234567",
    "98453",
    "9999999999",
    "9876543210",
    "+1 201-555-0123",
    "1234567890",
    "09845317206",
  ];
  const many = validatePhones(inputs);
  assert.ok(Array.isArray(many));
  assert.deepEqual(
    many,
    inputs.map((p) => validatePhone(p)),
  );
  const us = validatePhones(["(201) 555-0123", "9845317206"], { defaultCountry: "US" });
  assert.deepEqual(
    us,
    ["(201) 555-0123", "9845317206"].map((p) => validatePhone(p, { defaultCountry: "US" })),
  );
  assert.deepEqual(validatePhones([]), []);
});

test("validatePhones agrees with validatePhone over thousands of numbers", () => {
  const inputs = [];
  for (let i = 0; i < 3000; i++) {
    const n = (i * 7919 + 12345) % 1000000;
    inputs.push(
      i % 3 === 0
        ? `+9198${String(n).padStart(8, "0")}`
        : i % 3 === 1
          ? `9${String(n * 37)
              .padStart(9, "0")
              .slice(0, 9)}`
          : String(n),
    );
  }
  assert.deepEqual(
    validatePhones(inputs),
    inputs.map((p) => validatePhone(p)),
  );
});

// ---- normalizePhone -------------------------------------------------------------------------------------

test("normalizePhone returns E.164", () => {
  for (const input of ["9845317206", "+91 98453 17206", "098453 17206", "919845317206", "+91-98453-17206"]) {
    assert.equal(normalizePhone(input), "+919845317206", JSON.stringify(input));
  }
  assert.equal(normalizePhone("8888833333"), "+918888833333");
  assert.equal(normalizePhone("(201) 555-0123", { defaultCountry: "US" }), "+12015550123");
  assert.equal(normalizePhone("+1 201 555 0123"), "+12015550123");
});

test("normalizePhone throws invalid_phone whenever validatePhone says invalid, junk included", () => {
  for (const [input, reason] of REASONS) throwsVox(() => normalizePhone(input), "invalid_phone", `${JSON.stringify(input)} (${reason})`);
});

test("normalizePhone's error masks the number as read in defaultCountry", () => {
  let err;
  try {
    normalizePhone("0209374 4000", { defaultCountry: "AU" });
  } catch (e) {
    err = e;
  }
  assert.equal(err?.code, "invalid_phone");
  assert.ok(!err.message.includes("+91"), `not read as an Indian number: ${err.message}`);
  assert.ok(err.message.includes("4000") && !err.message.includes("0209374"), `masked: ${err.message}`);
});

test("normalizePhone with a non-string throws a VoxError", () => {
  let err;
  try {
    normalizePhone(9845317206);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof VoxError, `a VoxError, got ${err}`);
  assert.ok(["invalid_argument", "invalid_phone"].includes(err.code), err.code);
});

// ---- maskPhone ------------------------------------------------------------------------------------------

test("maskPhone keeps the country code and the last 4 digits", () => {
  assert.equal(maskPhone("+919845317206"), "+91******7206");
  assert.equal(maskPhone("+12015550123"), "+1******0123");
  assert.equal(maskPhone("+447400123456"), "+44******3456");
});

test("maskPhone with keepLast and maskChar", () => {
  assert.equal(maskPhone("+919845317206", { keepLast: 2 }), "+91********06");
  assert.equal(maskPhone("+919845317206", { maskChar: "#" }), "+91######7206");
  assert.equal(maskPhone("+919845317206", { keepLast: 3, maskChar: "x" }), "+91xxxxxxx206");
  assert.equal(maskPhone("+919845317206", { keepLast: 0 }), "+91**********");
});

test("maskPhone masks a number it cannot parse entirely but its last digits", () => {
  assert.equal(maskPhone("123456789"), "*****6789");
  assert.equal(maskPhone("123456789", { keepLast: 2 }), "*******89");
  const masked = maskPhone("not a phone 98765");
  assert.ok(!masked.includes("9876"), `digits but the last 4 are hidden: ${masked}`);
  assert.ok(masked.endsWith("8765") || masked.includes("8765"));
});

test("maskPhone never shows more than the country code and keepLast digits", () => {
  for (const input of ["+919845317206", "+91 98453 17206", "9845317206", "+12015550123"]) {
    const masked = maskPhone(input);
    const digits = masked.replace(/\D/g, "");
    assert.ok(digits.length <= 3 + 4, `${input} -> ${masked}`);
    assert.ok(masked.endsWith(input.slice(-4)), `${input} -> ${masked} keeps the last 4`);
  }
});

// ---- validateLead ---------------------------------------------------------------------------------------

const byField = (res) => res.errors.map((e) => e.field).sort();

test("validateLead accepts a valid lead without projectId", () => {
  const res = validateLead({ name: "Asha Rao", phone: "9845317206", processId: SALES });
  assertPlain(res, "validateLead result");
  assert.deepEqual(res, { valid: true, errors: [] });
  assert.deepEqual(validateLead({ firstName: "Asha", email: "asha@example.com", processId: SALES }), { valid: true, errors: [] });
});

test("validateLead lists each broken rule with field, code and message", () => {
  const cases = [
    [{ name: "A B", phone: "9845317206" }, ["processId"]],
    [{ phone: "9845317206", processId: SALES }, ["name"]],
    [{ name: "A B", processId: SALES }, null], // phone or email
    [{ name: "A B", phone: "9999999999", processId: SALES }, ["phone"]],
    [{ name: "A B", phone: "9876543210", processId: SALES }, ["phone"]],
    [{ name: "A B", phone: "12345", processId: SALES }, ["phone"]],
    [{ name: "A B", email: "not-an-email", processId: SALES }, ["email"]],
  ];
  for (const [lead, fields] of cases) {
    const res = validateLead(lead);
    assert.equal(res.valid, false, `${JSON.stringify(lead)} is invalid: ${JSON.stringify(res)}`);
    for (const e of res.errors) {
      assert.equal(typeof e.field, "string");
      assert.equal(typeof e.code, "string");
      assert.ok(typeof e.message === "string" && e.message.length > 5);
    }
    if (fields) {
      const got = byField(res);
      for (const f of fields) assert.ok(got.includes(f) || (f === "name" && got.includes("firstName")), `${JSON.stringify(lead)}: ${f} in ${got}`);
    } else {
      assert.ok(
        byField(res).some((f) => f === "phone" || f === "email"),
        JSON.stringify(res),
      );
    }
  }
});

test("validateLead uses defaultCountry for numbers without a country code", () => {
  const res = validateLead({ name: "Sam Lee", phone: "(201) 555-0123", processId: SALES }, { defaultCountry: "US" });
  assert.deepEqual(res, { valid: true, errors: [] });
});
