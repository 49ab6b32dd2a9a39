"use strict";
// The sign-up form: no framework, no third-party requests, nothing inline (a strict CSP).
(() => {
  const TEXT = {
    fa: {
      title: "زودتر از همه باخبر شوید",
      lead: "شماره موبایل خود را وارد کنید تا به محض آغاز، به شما خبر دهیم.",
      label: "شماره موبایل",
      hint: "مثلاً ۰۹۱۲۳۴۵۶۷۸۹؛ رقم‌های فارسی هم پذیرفته می‌شوند.",
      submit: "ثبت‌نام",
      toggle: "English",
      empty: "لطفاً شماره موبایل خود را وارد کنید.",
      sending: "در حال ارسال…",
      retrying: "سرویس موقتاً در دسترس نیست؛ دوباره تلاش می‌کنیم…",
      accepted: "دریافت شد؛ نام شما ثبت می‌شود. ممنون!",
      queued: "دریافت شد؛ در حال ثبت…",
      registered: "ثبت شد. ممنون!",
      failed: "ثبت انجام نشد. لطفاً بعداً دوباره تلاش کنید.",
      pending: "دریافت شد؛ ثبت کمی بیشتر طول می‌کشد.",
      invalid: "این شماره موبایل معتبر نیست.",
      limited: "درخواست‌ها زیاد بود؛ کمی بعد دوباره تلاش کنید.",
      unavailable: "سرویس در دسترس نیست؛ لطفاً بعداً دوباره تلاش کنید.",
      codeLabel: "کد پیامک‌شده",
      codeHint: "کد ۶ رقمی‌ای را که برایتان پیامک شد وارد کنید.",
      verify: "تأیید",
      resend: "ارسال دوباره‌ی کد",
      code: "ثبت شد. کدی را که برایتان پیامک کردیم وارد کنید.",
      checking: "در حال بررسی کد…",
      verified: "شماره‌ی شما تأیید شد. ممنون!",
      wrongCode: "این کد درست نیست؛ دوباره امتحان کنید.",
      codeGone: "این کد دیگر معتبر نیست؛ کد تازه‌ای بخواهید.",
      resent: "کد تازه‌ای فرستادیم.",
      resendWait: "کمی صبر کنید و دوباره کد بخواهید.",
    },
    en: {
      title: "Be the first to know",
      lead: "Enter your mobile number and we will tell you as soon as we launch.",
      label: "Mobile number",
      hint: "For example 09123456789; Persian digits are fine too.",
      submit: "Sign up",
      toggle: "فارسی",
      empty: "Please enter your mobile number.",
      sending: "Sending…",
      retrying: "The service is briefly unavailable; retrying…",
      accepted: "Received: your number will be registered. Thank you!",
      queued: "Received; registering…",
      registered: "You are registered. Thank you!",
      failed: "We could not register you. Please try again later.",
      pending: "Received; registering is taking a little longer.",
      invalid: "This mobile number is not valid.",
      limited: "Too many requests; please try again shortly.",
      unavailable: "The service is unavailable; please try again later.",
      codeLabel: "Code from the SMS",
      codeHint: "Enter the 6-digit code we sent you by SMS.",
      verify: "Verify",
      resend: "Send the code again",
      code: "You are registered. Enter the code we sent you by SMS.",
      checking: "Checking the code…",
      verified: "Your number is verified. Thank you!",
      wrongCode: "That code is not right; try again.",
      codeGone: "That code no longer works; ask for a new one.",
      resent: "We sent you a new code.",
      resendWait: "Please wait a moment before asking for another code.",
    },
  };
  const RETRIED = new Set([429, 502, 503, 504]); // transient: the same request_id again
  // A sign-up the API wants proof of work for (403): solve a challenge, send it again.
  const CHALLENGED = new Set(["challenge_required", "challenge_invalid"]);
  const MAX_SOLVES = 3; // a fourth refusal is no longer a challenge we can answer
  const MAX_SOLVERS = 4; // Web Workers sharing one challenge, one per core at most
  const SOLVER = new URL("solver.js", document.currentScript.src).href;
  const MAX_ATTEMPTS = 20; // about ten minutes with the backoff below
  const LONGEST_WAIT = 60000; // longer than this, the visitor had better come back later
  const REFERRER_LIMIT = 2048; // the API's referrer limit
  const SAVED = "landing.signup";
  const root = document.documentElement;
  const API = (root.dataset.api || "").replace(/\/+$/, "");
  const byId = (id) => document.getElementById(id);
  const form = byId("signup");
  const phone = byId("phone");
  const result = byId("result");
  const toggle = byId("lang");
  const verifyForm = byId("verify");
  const code = byId("code");
  let verifying = null; // the status URL of the sign-up whose code the page asks for
  let lang = "fa";
  let shown = null;

  function setLanguage(next) {
    lang = next;
    root.lang = next;
    root.dir = next === "fa" ? "rtl" : "ltr";
    document.title = TEXT[next].title;
    for (const element of document.querySelectorAll("[data-t]")) {
      element.textContent = TEXT[next][element.dataset.t];
    }
    toggle.textContent = TEXT[next].toggle;
    toggle.lang = next === "fa" ? "en" : "fa";
    if (shown) show(shown);
    remember(localStorage, "landing.lang", next);
  }

  function show(state) {
    shown = state;
    result.dataset.state = state;
    const plain = { accepted: "ok", registered: "ok", verified: "ok", queued: "", sending: "", retrying: "" };
    Object.assign(plain, { code: "", checking: "", resent: "" });
    result.className = plain[state] ?? "error";
    result.textContent = TEXT[lang][state];
  }

  function remember(storage, key, value) {
    try {
      storage.setItem(key, value);
    } catch {
      // Storage disabled: the page still works, it just forgets.
    }
  }

  function recall(storage, key) {
    try {
      return storage.getItem(key);
    } catch {
      return null;
    }
  }

  // Persian (U+06F0..) and Arabic-Indic (U+0660..) digits both end in their value's nibble.
  const asciiDigits = (text) => text.replace(/[\u06F0-\u06F9\u0660-\u0669]/g, (d) => String(d.charCodeAt(0) & 15));

  function campaignOf(search) {
    const found = new URLSearchParams(search);
    const kept = new URLSearchParams();
    for (const key of ["utm_source", "utm_campaign"]) {
      if (found.get(key)) kept.set(key, found.get(key));
    }
    return kept.toString();
  }

  // Percent-encoded, so ASCII only: cutting it can't split a character.
  function campaign() {
    let found = campaignOf(location.search);
    if (!found && document.referrer) {
      try {
        found = campaignOf(new URL(document.referrer).search);
      } catch {
        found = "";
      }
    }
    return found.slice(0, REFERRER_LIMIT);
  }

  function newId() {
    if (crypto.randomUUID) return crypto.randomUUID();
    // Plain HTTP (not a secure context) has no randomUUID; build a version 4 UUID.
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    const hex = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  // One id per number for the whole visit, so a retry or a reload can't sign up twice.
  function requestIdFor(number) {
    let saved = null;
    try {
      saved = JSON.parse(recall(sessionStorage, SAVED));
    } catch {
      saved = null;
    }
    if (saved && saved.phone === number) return saved.id;
    const id = newId();
    remember(sessionStorage, SAVED, JSON.stringify({ phone: number, id }));
    return id;
  }

  const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

  function backoff(attempt, response) {
    const header = response && response.headers.get("Retry-After");
    const seconds = Number(header);
    const exponential = Math.min(1000 * 2 ** attempt, 30000) * (0.5 + Math.random() / 2);
    if (header && seconds >= 0) return Math.max(seconds * 1000, exponential / 2);
    const date = header ? Date.parse(header) - Date.now() : NaN;
    return date > 0 ? date : exponential;
  }

  // Whether a 403 asks for a solved challenge (and not for something no retry mends).
  async function challenged(response) {
    if (response.status !== 403) return false;
    try {
      return CHALLENGED.has((await response.clone().json()).error);
    } catch {
      return false;
    }
  }

  // Workers each trying their share of the numbers; the first to find it answers.
  function work(challenge) {
    const parts = Math.max(1, Math.min(navigator.hardwareConcurrency || 1, MAX_SOLVERS));
    const workers = Array.from({ length: parts }, () => new Worker(SOLVER));
    return new Promise((done, fail) => {
      let left = parts;
      workers.forEach((worker, part) => {
        worker.onmessage = (event) => {
          if (event.data.number !== null) done(event.data.number);
          else if (--left === 0) fail(new Error("unsolved"));
        };
        worker.onerror = () => fail(new Error("solver failed"));
        worker.postMessage({ ...challenge, part, parts });
      });
    }).finally(() => workers.forEach((worker) => worker.terminate()));
  }

  // A fresh challenge from the API, solved: the value the sign-up sends as altcha.
  async function solution() {
    const response = await fetch(`${API}/api/challenge`, { credentials: "omit", cache: "no-store" });
    if (!response.ok) throw new Error(`challenge: ${response.status}`);
    const challenge = await response.json();
    const number = await work(challenge);
    const { algorithm, salt, signature } = challenge;
    return btoa(JSON.stringify({ algorithm, challenge: challenge.challenge, number, salt, signature }));
  }

  // POST body to url, retrying what is transient (retried) with the same body: a sign-up
  // (its request_id makes that safe), a code (a right one answers the same again).
  async function send(body, url = `${API}/api/register/`, retried = RETRIED) {
    let solves = 0;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      let response = null;
      try {
        response = await fetch(url, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(body),
          credentials: "omit",
          cache: "no-store",
        });
        if (solves < MAX_SOLVES && (await challenged(response))) {
          solves++;
          result.dataset.solves = String(solves);
          body.altcha = await solution(); // the same sign-up (request_id), with its proof
          attempt--; // solving is not a failed attempt: send again at once
          continue;
        }
        if (!retried.has(response.status)) return response;
      } catch {
        // A network error, or a cross-origin refusal (the browser says no more).
      }
      const wait = backoff(attempt, response);
      if (response && wait > LONGEST_WAIT) return response; // e.g. a number's hourly limit
      show("retrying");
      result.dataset.attempts = String(attempt + 1);
      await sleep(wait);
    }
    return null;
  }

  async function poll(url) {
    for (let attempt = 0; attempt < 60; attempt++) {
      await sleep(Math.min(500 * 1.5 ** attempt, 5000));
      try {
        const response = await fetch(url, { credentials: "omit", cache: "no-store" });
        const answer = response.ok ? await response.json() : {};
        if (answer.status === "registered" && answer.verification === "pending") return askCode(url);
        if (answer.verification === "verified") return show("verified");
        if (answer.status === "registered" || answer.status === "failed") return show(answer.status);
      } catch {
        // Try again at the next tick: the sign-up is accepted already.
      }
    }
    show("pending");
  }

  // A 202 is the API's promise that the number will be stored: without a code step there
  // is nothing left to wait for, so the page says so and polls nothing (a campaign's
  // visitors would otherwise spend the front door's time on polls). With VERIFICATION=sms
  // the 202 says verify_by, and the page polls until the code is on its way.
  async function accepted(response) {
    let body = {};
    try {
      body = await response.json();
    } catch {
      body = {};
    }
    if (body.verify_by !== "sms") return show("accepted");
    const where = response.headers.get("Location") || `/api/register/${body.request_id}`;
    show("queued");
    await poll(new URL(where, API || location.href).href);
  }

  async function submit(event) {
    event.preventDefault();
    const number = asciiDigits(phone.value).trim();
    if (!number) {
      phone.setAttribute("aria-invalid", "true");
      phone.focus();
      return show("empty");
    }
    phone.removeAttribute("aria-invalid");
    const body = { phone: number, request_id: requestIdFor(number) };
    const referrer = campaign();
    if (referrer) body.referrer = referrer;
    form.setAttribute("aria-busy", "true");
    form.elements.send.disabled = true;
    show("sending");
    try {
      await outcome(await send(body));
    } finally {
      form.removeAttribute("aria-busy");
      form.elements.send.disabled = false;
    }
  }

  async function outcome(response) {
    if (!response) return show("unavailable");
    if (response.status === 202) return accepted(response);
    if (response.status === 400) {
      phone.setAttribute("aria-invalid", "true");
      phone.focus();
      return show("invalid");
    }
    show(response.status === 429 ? "limited" : "unavailable");
  }

  // The code step (VERIFICATION=sms): only when the status answer says a code is on its way.
  function askCode(url) {
    verifying = url;
    verifyForm.hidden = false;
    show("code");
    code.focus();
  }

  async function busy(work) {
    verifyForm.setAttribute("aria-busy", "true");
    for (const button of verifyForm.querySelectorAll("button")) button.disabled = true;
    try {
      await work();
    } finally {
      verifyForm.removeAttribute("aria-busy");
      for (const button of verifyForm.querySelectorAll("button")) button.disabled = false;
    }
  }

  async function checkCode(event) {
    event.preventDefault();
    const typed = asciiDigits(code.value).replace(/\D/g, "");
    if (typed.length !== 6) {
      code.setAttribute("aria-invalid", "true");
      code.focus();
      return show("wrongCode");
    }
    show("checking");
    await busy(async () => {
      const response = await send({ code: typed }, `${verifying}/verify`);
      if (response && response.ok) {
        verifyForm.hidden = true;
        return show("verified");
      }
      code.setAttribute("aria-invalid", "true");
      code.focus();
      if (!response) return show("unavailable");
      if (response.status === 400) return show("wrongCode");
      show(response.status === 410 || response.status === 404 ? "codeGone" : "limited");
    });
  }

  async function resendCode() {
    await busy(async () => {
      // A 429 here is the cooldown: said, not waited out behind the visitor's back.
      const response = await send({}, `${verifying}/resend`, new Set([502, 503, 504]));
      code.removeAttribute("aria-invalid");
      code.value = "";
      code.focus();
      if (!response) return show("unavailable");
      show(response.status === 202 ? "resent" : response.status === 429 ? "resendWait" : "codeGone");
    });
  }

  form.addEventListener("submit", submit);
  verifyForm.addEventListener("submit", checkCode);
  byId("resend").addEventListener("click", resendCode);
  toggle.addEventListener("click", () => setLanguage(lang === "fa" ? "en" : "fa"));
  const asked = new URLSearchParams(location.search).get("lang") || recall(localStorage, "landing.lang");
  if (asked === "en") setLanguage("en");
})();
