// Opens the collector's status page in a real browser (Debian's chromium, headless, driven by
// playwright-core; no browser download) and reports what a person would see.
//
//   node status-page.cjs URL SCREENSHOT.png [--peer ADDR] [--prefixes N] [--min-events N]
//                        [--min-points N] [--timeout-ms N] [--blank BLANK.png]
//
// Waits (bounded by --timeout-ms, default 45000) until the sessions table shows --peer Established
// with --prefixes prefixes, the rate plot's polyline has at least --min-points points (default 2) and
// the events table has at least --min-events rows (default 0). Prints one JSON object on stdout:
//   { ok, error, title, health, sessions: [{column: text}], points, rateCaption, events: [{column: text}],
//     consoleErrors: [...], screenshot: {path, width, height} }
// and saves a full-page PNG either way. --blank also saves an empty white page of the same size,
// encoded by the same browser: a reference for "the screenshot is not blank" that does not depend on
// the PNG encoder's compression. Exit 0 when the wait succeeded, 1 when it timed out or failed.
// CHROMIUM overrides the browser (default /usr/bin/chromium).
"use strict";
const fs = require("node:fs");
const { chromium } = require("playwright-core");

function parseArgs(argv) {
  const [url, screenshot, ...rest] = argv;
  if (!url || !screenshot) throw new Error("usage: status-page.cjs URL SCREENSHOT.png [--peer ADDR] [--prefixes N] [--min-events N] [--min-points N] [--timeout-ms N]");
  const options = { url, screenshot, peer: null, prefixes: null, minEvents: 0, minPoints: 2, timeoutMs: 45000, blank: null };
  for (let i = 0; i < rest.length; i += 2) {
    const value = rest[i + 1];
    if (value === undefined) throw new Error(`${rest[i]} needs a value`);
    switch (rest[i]) {
      case "--peer": options.peer = value; break;
      case "--prefixes": options.prefixes = Number(value); break;
      case "--min-events": options.minEvents = Number(value); break;
      case "--min-points": options.minPoints = Number(value); break;
      case "--timeout-ms": options.timeoutMs = Number(value); break;
      case "--blank": options.blank = value; break;
      default: throw new Error(`unknown option ${rest[i]}`);
    }
  }
  return options;
}

// Runs in the page: the tables as header → cell text, and the plot's point count.
function snapshot() {
  const table = tbodyId => {
    const body = document.getElementById(tbodyId);
    const headers = [...body.closest("table").querySelectorAll("thead th")].map(th => th.textContent.trim());
    return [...body.querySelectorAll("tr")]
      .filter(tr => !tr.querySelector("td.muted[colspan]")) // the "loading…" / "none" placeholder
      .map(tr => Object.fromEntries([...tr.cells].map((td, i) => [headers[i] ?? String(i), td.textContent.trim()])));
  };
  const line = document.querySelector("#rates polyline");
  const points = line ? line.getAttribute("points").trim().split(/\s+/).filter(p => p.includes(",")).length : 0;
  return {
    title: document.title,
    health: document.getElementById("health").textContent.trim(),
    sessions: table("sessions"),
    points,
    rateCaption: document.getElementById("rate-now").textContent.trim(),
    events: table("events"),
  };
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const result = { ok: false, error: null, consoleErrors: [] };
  const args = process.getuid && process.getuid() === 0 ? ["--no-sandbox"] : []; // chromium refuses root without it
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", headless: true, args, timeout: 30000 });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on("console", m => { if (m.type() === "error") result.consoleErrors.push(`${m.text()} (${m.location().url})`); });
    page.on("pageerror", e => result.consoleErrors.push(String(e)));
    page.on("requestfailed", r => result.consoleErrors.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
    try {
      await page.goto(options.url, { waitUntil: "load", timeout: 15000 });
      await page.waitForFunction(([peer, prefixes, minPoints, minEvents, snap]) => {
        const s = new Function(`return (${snap})()`)();
        const row = s.sessions.find(r => r.peer === peer);
        return (peer === null || (row && row.state === "established" && (prefixes === null || Number(row.prefixes) === prefixes)))
          && s.points >= minPoints && s.events.length >= minEvents;
      }, [options.peer, options.prefixes, options.minPoints, options.minEvents, snapshot.toString()], { timeout: options.timeoutMs, polling: 250 });
      result.ok = true;
    } catch (e) {
      result.error = String(e && e.message || e).split("\n")[0];
    }
    Object.assign(result, await page.evaluate(snapshot).catch(e => ({ snapshotError: String(e) })));
    await page.screenshot({ path: options.screenshot, fullPage: true, timeout: 15000 });
    const png = fs.readFileSync(options.screenshot);
    const width = png.readUInt32BE(16), height = png.readUInt32BE(20); // IHDR, right after the 8-byte signature and chunk header
    result.screenshot = { path: options.screenshot, width, height, bytes: png.length };
    if (options.blank) {
      const blank = await browser.newPage({ viewport: { width, height } });
      await blank.setContent(`<html><body style="margin:0;width:${width}px;height:${height}px;background:#fff"></body></html>`);
      await blank.screenshot({ path: options.blank, fullPage: true, timeout: 15000 });
      result.blank = { path: options.blank, bytes: fs.statSync(options.blank).size };
    }
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(result) + "\n");
  return result.ok ? 0 : 1;
}

main().then(code => { process.exitCode = code; }, e => { process.stderr.write(String(e && e.stack || e) + "\n"); process.exitCode = 2; });
