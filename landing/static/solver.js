"use strict";
// The sign-up challenge's solver, in a Web Worker so the page stays responsive while it works.
// The scheme is ALTCHA's (landing/admission/challenge.py issues and checks it): find the
// number n, from 0 to maxnumber, whose SHA-256(salt + n), in hex, is the challenge. Workers
// may share the range: worker `part` of `parts` tries part, part + parts, part + 2 parts...
// Hashes are asked of WebCrypto a batch at a time: each digest answers a promise, and waiting
// for them one by one would spend more time waiting than hashing.
const BATCH = 500;

function bytesOf(hex) {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

function same(buffer, target) {
  const bytes = new Uint8Array(buffer);
  for (let i = 0; i < target.length; i++) if (bytes[i] !== target[i]) return false;
  return true;
}

async function solve({ salt, challenge, maxnumber, part = 0, parts = 1 }) {
  const target = bytesOf(challenge);
  const encoder = new TextEncoder();
  const step = parts * BATCH;
  for (let first = part; first <= maxnumber; first += step) {
    const numbers = [];
    for (let n = first; n <= maxnumber && numbers.length < BATCH; n += parts) numbers.push(n);
    const digests = await Promise.all(
      numbers.map((n) => crypto.subtle.digest("SHA-256", encoder.encode(salt + n))),
    );
    const found = digests.findIndex((digest) => same(digest, target));
    if (found >= 0) return numbers[found];
  }
  return null;
}

self.onmessage = async (event) => {
  try {
    self.postMessage({ number: await solve(event.data) });
  } catch (error) {
    self.postMessage({ number: null, error: String(error) });
  }
};
