// Unit tests of the server's phone rules (docs/api.md §2, §3.4): normalisation, calling codes, the
// repeating-digits rule and masking.

import assert from "node:assert/strict";
import test from "node:test";
import { checkPhone, hasRepeatingPattern, isCallingCode, maskPhone, parsePhone } from "../lib/phone.mjs";

test("E.164 input is kept, separators are stripped", () => {
  assert.equal(checkPhone("+919845317206").e164, "+919845317206");
  assert.equal(checkPhone("+91 98453-17206").e164, "+919845317206");
  assert.equal(checkPhone("+1 (415) 555.0123").e164, "+14155550123");
  assert.equal(checkPhone("+44 [20] 7946 0958").e164, "+442079460958");
  assert.deepEqual(parsePhone("+14155550123"), { e164: "+14155550123", countryCode: 1, nationalNumber: "4155550123" });
  assert.deepEqual(parsePhone("+3531234567"), { e164: "+3531234567", countryCode: 353, nationalNumber: "1234567" });
});

test("bare Indian numbers, with 0 or 91 in front, become +91", () => {
  for (const input of ["9845317206", "09845317206", "919845317206", "98453 17206", "098453-17206", "(91) 98453.17206"]) {
    assert.equal(checkPhone(input).e164, "+919845317206", input);
  }
  assert.equal(checkPhone("6000012345").e164, "+916000012345");
});

test("invalid numbers", () => {
  for (const input of [
    "",
    "abc",
    "12345",
    "5845317206", // bare 10 digits must start 6-9
    "984531720",
    "98453172061", // wrong length
    "0984531720",
    "1919845317206",
    "819845317206",
    "+0123456789", // no calling code starts with 0
    "+2101234567", // 210 is not assigned
    "+91984",
    "+1234567", // fewer than 8 digits
    "+1234567890123456", // more than 15 digits
    "+91 98453 1720x",
    "++919845317206",
    "+91+9845317206",
  ]) {
    assert.equal(checkPhone(input).error, "Invalid phone number", input);
  }
  assert.equal(checkPhone(9845317206).error, "Invalid phone number");
});

test("calling-code table", () => {
  for (const code of [1, 7, 20, 44, 49, 86, 91, 212, 353, 380, 420, 599, 673, 852, 880, 971, 998, 800, 882]) assert.ok(isCallingCode(code), code);
  for (const code of [0, 28, 42, 80, 210, 214, 384, 422, 671, 801, 999]) assert.ok(!isCallingCode(code), code);
});

test("repeating-digits rule as docs/api.md §2 decides", () => {
  // one digit repeated
  assert.ok(hasRepeatingPattern("9999999999"));
  // a digit 7 or more times in a row
  assert.ok(hasRepeatingPattern("9000000012"));
  assert.ok(hasRepeatingPattern("9811111113"));
  assert.ok(!hasRepeatingPattern("9000000123")); // six in a row is fine
  // periodic with period 2 or 3 across the whole number
  assert.ok(hasRepeatingPattern("9898989898"));
  assert.ok(hasRepeatingPattern("9879879879"));
  assert.ok(hasRepeatingPattern("989898989")); // odd length, still n[i] == n[i % 2]
  assert.ok(!hasRepeatingPattern("9898989899"));
  // the vendor's own example and ordinary numbers
  assert.ok(!hasRepeatingPattern("8888833333"));
  assert.ok(!hasRepeatingPattern("9845317206"));
  assert.ok(!hasRepeatingPattern("9876543210"));
  assert.ok(!hasRepeatingPattern("9898989890"));

  const msg = "Phone number contains repeating digits pattern";
  for (const input of ["9999999999", "+919000000012", "9898989898", "9879879879", "+14141414141"]) {
    assert.equal(checkPhone(input).error, msg, input);
  }
  assert.equal(checkPhone("8888833333").e164, "+918888833333");
  // the rule looks at the national number only: the calling code is not part of the pattern
  assert.equal(checkPhone("+11231231231").error, msg);
});

test("masking keeps the last 4 digits and every non-digit", () => {
  assert.equal(maskPhone("+919845317206"), "+********7206");
  assert.equal(maskPhone("+14155550123"), "+*******0123");
  assert.equal(maskPhone("+91 98453-17206"), "+** *****-*7206");
  assert.equal(maskPhone("1234"), "1234");
  assert.equal(maskPhone(""), "");
  assert.equal(maskPhone(null), null);
});
