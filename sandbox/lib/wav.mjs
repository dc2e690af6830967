// Owns the fake call recordings: a short 16-bit mono PCM WAV tone, generated once per pitch and cached.

const cache = new Map();

/** A WAV file of `seconds` of a sine tone at `hz` (8 kHz sample rate). */
export function toneWav(hz = 440, seconds = 0.5) {
  const cacheKey = `${hz}:${seconds}`;
  const cached = cache.get(cacheKey);
  if (cached) return cached;
  const rate = 8000;
  const samples = Math.round(rate * seconds);
  const buf = Buffer.alloc(44 + samples * 2);
  buf.write("RIFF", 0, "ascii");
  buf.writeUInt32LE(36 + samples * 2, 4);
  buf.write("WAVE", 8, "ascii");
  buf.write("fmt ", 12, "ascii");
  buf.writeUInt32LE(16, 16); // fmt chunk size
  buf.writeUInt16LE(1, 20); // PCM
  buf.writeUInt16LE(1, 22); // mono
  buf.writeUInt32LE(rate, 24);
  buf.writeUInt32LE(rate * 2, 28); // byte rate
  buf.writeUInt16LE(2, 32); // block align
  buf.writeUInt16LE(16, 34); // bits per sample
  buf.write("data", 36, "ascii");
  buf.writeUInt32LE(samples * 2, 40);
  for (let i = 0; i < samples; i++) {
    const fade = Math.min(1, i / 400, (samples - i) / 400); // no clicks at the ends
    buf.writeInt16LE(Math.round(Math.sin((2 * Math.PI * hz * i) / rate) * 12000 * fade), 44 + i * 2);
  }
  cache.set(cacheKey, buf);
  return buf;
}
