// Owns the server's phone rules (docs/api.md §2): normalisation to E.164, the ITU calling-code table,
// the repeating-digits rule, and the server-side masking of §3.4.

// Every assigned ITU-T E.164 country calling code: the geographic ones plus the
// non-geographic services (800 freephone, 808 shared cost, 870 Inmarsat, 878, 881-883, 888, 979).
const CALLING_CODES = new Set(
  `
1 7 20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58
60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98
211 212 213 216 218 220 221 222 223 224 225 226 227 228 229 230 231 232 233 234 235 236 237 238 239
240 241 242 243 244 245 246 247 248 249 250 251 252 253 254 255 256 257 258 260 261 262 263 264 265
266 267 268 269 290 291 297 298 299 350 351 352 353 354 355 356 357 358 359 370 371 372 373 374 375
376 377 378 379 380 381 382 383 385 386 387 389 420 421 423 500 501 502 503 504 505 506 507 508 509
590 591 592 593 594 595 596 597 598 599 670 672 673 674 675 676 677 678 679 680 681 682 683 685 686
687 688 689 690 691 692 800 808 850 852 853 855 856 870 878 880 881 882 883 886 888 960 961 962 963
964 965 966 967 968 970 971 972 973 974 975 976 977 979 992 993 994 995 996 998
`
    .trim()
    .split(/\s+/),
);

export function isCallingCode(code) {
  return CALLING_CODES.has(String(code));
}

const SEPARATORS = /[\s\-.()[\]]/g;
const INDIAN_MOBILE = /^[6-9]\d{9}$/;

/**
 * Parses a phone as the server accepts it.
 * Returns { e164, countryCode, nationalNumber } or null when the number is not acceptable.
 * Accepted: "+<calling code><national>" with 8-15 digits in all, a bare Indian 10-digit mobile
 * number starting 6-9, or that number prefixed by "0" or "91".
 */
export function parsePhone(input) {
  if (typeof input !== "string") return null;
  const s = input.replace(SEPARATORS, "");
  if (s.startsWith("+")) {
    const digits = s.slice(1);
    if (!/^\d{8,15}$/.test(digits)) return null;
    for (let len = 1; len <= 3; len++) {
      const code = digits.slice(0, len);
      if (CALLING_CODES.has(code)) {
        return { e164: "+" + digits, countryCode: Number(code), nationalNumber: digits.slice(len) };
      }
    }
    return null;
  }
  let national = null;
  if (INDIAN_MOBILE.test(s)) national = s;
  else if (s.length === 11 && s[0] === "0" && INDIAN_MOBILE.test(s.slice(1))) national = s.slice(1);
  else if (s.length === 12 && s.startsWith("91") && INDIAN_MOBILE.test(s.slice(2))) national = s.slice(2);
  if (national === null) return null;
  return { e164: "+91" + national, countryCode: 91, nationalNumber: national };
}

/**
 * The repeating-digits rule of docs/api.md §2 on a national number: one digit repeated, any digit 7+ times
 * in a row, or the whole number periodic with period 2 or 3 (n[i] == n[i % k] for every i).
 */
export function hasRepeatingPattern(national) {
  if (/(\d)\1{6}/.test(national)) return true;
  for (const k of [1, 2, 3]) {
    if (national.length <= k) continue;
    let periodic = true;
    for (let i = k; i < national.length; i++) {
      if (national[i] !== national[i % k]) {
        periodic = false;
        break;
      }
    }
    if (periodic) return true;
  }
  return false;
}

/**
 * Checks a phone for a lead. Returns { e164 } or { error } with the exact API message.
 */
export function checkPhone(input) {
  const parsed = parsePhone(input);
  if (!parsed) return { error: "Invalid phone number" };
  if (hasRepeatingPattern(parsed.nationalNumber)) return { error: "Phone number contains repeating digits pattern" };
  return { e164: parsed.e164 };
}

/** §3.4 masking: every digit but the last 4 becomes "*", other characters stay. */
export function maskPhone(value) {
  if (typeof value !== "string") return value;
  let digits = 0;
  for (let i = 0; i < value.length; i++) if (value[i] >= "0" && value[i] <= "9") digits++;
  let toMask = digits - 4;
  if (toMask <= 0) return value;
  let out = "";
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (toMask > 0 && c >= "0" && c <= "9") {
      out += "*";
      toMask--;
    } else out += c;
  }
  return out;
}
