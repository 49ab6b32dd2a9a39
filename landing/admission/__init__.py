"""Admission: whether a request may become a sign-up now, and what it is counted against.

Every limit of the public API lives here, one concern a module:

- keys.py: the counters' keys (a number's is a keyed hash of it, never the number).
- scripts.py: the Lua that admits a batch, counts a refused request, withdraws a sign-up.
- gate.py: Gate, which runs them: both limits, a request_id's binding, a `queued` status.
- fallback.py: the limits in the process's memory while Redis refuses (and its metric).
- refusals.py: why a sign-up was refused (Limited, AddressLimited, PhoneLimited,
  RequestIdTaken).
- refused.py: requests refused before they became sign-ups: counted against the same
  window, 429 past it, and the cap on how many of an address's reach the attempt history.
- limiter.py: flask-limiter, for the status route's limit and the turned-away cap, without
  its per-request hooks (why, and what that saved, is there).
- challenge.py: the sign-up challenge (ALTCHA's proof of work): issued signed, each
  solution verified and spent once.
- pressure.py: whether a sign-up must carry a solved challenge (CHALLENGE_MODE: off,
  always, auto per client network or for everyone).
- proof.py: the two together, before a sign-up is admitted: 403 when it lacks one.

The intake (landing/intake.py) only batches and publishes: it asks the gate to admit a
batch and to withdraw a sign-up the broker did not confirm.
"""
