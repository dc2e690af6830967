// LZMA-style binary range coder (11-bit probabilities). The Rust decoder in
// phone/src/data.rs mirrors `RangeDecoder` below bit for bit.

export const PROB_BITS = 11;
export const PROB_INIT = 1 << (PROB_BITS - 1);
export const MOVE_BITS = 4;
const TOP = 2 ** 24;

export class RangeEncoder {
  constructor() {
    this.low = 0; // < 2^33
    this.range = 0xffffffff;
    this.cache = 0;
    this.cacheSize = 1;
    this.out = [];
    this.bits = 0; // ideal cost, for statistics
  }
  shiftLow() {
    if (this.low < 0xff000000 || this.low >= 2 ** 32) {
      const carry = this.low >= 2 ** 32 ? 1 : 0;
      let temp = this.cache;
      do {
        this.out.push((temp + carry) & 0xff);
        temp = 0xff;
      } while (--this.cacheSize !== 0);
      this.cache = Math.floor(this.low / TOP) & 0xff;
    }
    this.cacheSize++;
    this.low = (this.low % TOP) * 256;
  }
  bit(probs, i, b) {
    const p = probs[i];
    const bound = (this.range >>> PROB_BITS) * p;
    this.bits -= Math.log2(b ? 1 - p / (1 << PROB_BITS) : p / (1 << PROB_BITS));
    if (!b) {
      this.range = bound;
      probs[i] = p + (((1 << PROB_BITS) - p) >> MOVE_BITS);
    } else {
      this.low += bound;
      this.range -= bound;
      probs[i] = p - (p >> MOVE_BITS);
    }
    while (this.range < TOP) {
      this.range = (this.range * 256) >>> 0;
      this.shiftLow();
    }
  }
  finish() {
    for (let i = 0; i < 5; i++) this.shiftLow();
    return this.out;
  }
}

export class RangeDecoder {
  constructor(bytes) {
    this.bytes = bytes;
    this.pos = 0;
    this.range = 0xffffffff;
    this.code = 0;
    for (let i = 0; i < 5; i++) this.code = (this.code * 256 + this.next()) >>> 0;
  }
  next() {
    return this.pos < this.bytes.length ? this.bytes[this.pos++] : 0;
  }
  bit(probs, i) {
    const p = probs[i];
    const bound = (this.range >>> PROB_BITS) * p;
    let b;
    if (this.code < bound) {
      this.range = bound;
      probs[i] = p + (((1 << PROB_BITS) - p) >> MOVE_BITS);
      b = 0;
    } else {
      this.code -= bound;
      this.range -= bound;
      probs[i] = p - (p >> MOVE_BITS);
      b = 1;
    }
    while (this.range < TOP) {
      this.range = (this.range * 256) >>> 0;
      this.code = (this.code * 256 + this.next()) >>> 0;
    }
    return b;
  }
}
