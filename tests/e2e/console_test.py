#!/usr/bin/env python3
"""The web console in a real browser: Debian's chromium, headless, driven through chromedriver's
W3C WebDriver protocol (plain HTTP and JSON, so the Python standard library is all it needs).

    console_test.py CHROMEDRIVER_URL CONSOLE_URL OUT_DIR SPEC.json

SPEC names the users (role, password), the recordings the test made with SIPp and what each page
must show. Prints one line per check, "ok - what" or "not ok - what: why", for t_console.sh to
turn into TAP; screenshots of the main pages go to OUT_DIR/screenshots.
"""
import base64
import json
import os
import sys
import time
import urllib.error
import urllib.request

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the W3C web element identifier


class WebDriverError(Exception):
    pass


class Browser:
    def __init__(self, driver_url, download_dir, profile_dir):
        self.base = driver_url.rstrip("/")
        caps = {
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "acceptInsecureCerts": True,
                    "goog:chromeOptions": {
                        "binary": os.environ.get("CHROMIUM", "/usr/bin/chromium"),
                        "args": [
                            "--headless=new", "--no-sandbox", "--disable-gpu",
                            "--disable-dev-shm-usage", "--window-size=1280,1000",
                            "--autoplay-policy=no-user-gesture-required",
                            "--no-first-run", "--disable-extensions",
                            "--user-data-dir=" + profile_dir,
                        ],
                        "prefs": {
                            "download.default_directory": download_dir,
                            "download.prompt_for_download": False,
                        },
                    },
                }
            }
        }
        self.sid = self._call("POST", "/session", caps)["sessionId"]

    def _call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return json.loads(r.read() or b"{}").get("value", {}) if path != "/session" \
                    else json.loads(r.read())["value"]
        except urllib.error.HTTPError as e:
            raise WebDriverError(e.read().decode(errors="replace")[:400]) from None

    def s(self, method, path, body=None):
        return self._call(method, f"/session/{self.sid}{path}", body)

    def go(self, url):
        self.s("POST", "/url", {"url": url})

    def find(self, css, wait=10.0):
        deadline = time.time() + wait
        while True:
            try:
                return self.s("POST", "/element", {"using": "css selector", "value": css})[ELEMENT]
            except WebDriverError:
                if time.time() > deadline:
                    raise WebDriverError(f"no element {css}") from None
                time.sleep(0.1)

    def present(self, css):
        return bool(self.s("POST", "/elements", {"using": "css selector", "value": css}))

    def type(self, css, text):
        eid = self.find(css)
        self.s("POST", f"/element/{eid}/clear", {})
        self.s("POST", f"/element/{eid}/value", {"text": text})

    def click(self, css):
        self.s("POST", f"/element/{self.find(css)}/click", {})

    def text(self, css):
        return self.s("GET", f"/element/{self.find(css)}/text")

    def js(self, script, *args):
        return self.s("POST", "/execute/sync", {"script": script, "args": list(args)})

    def js_async(self, script, *args):
        return self.s("POST", "/execute/async", {"script": script, "args": list(args)})

    def wait_js(self, script, wait=10.0, *args):
        deadline = time.time() + wait
        while True:
            v = self.js(script, *args)
            if v or time.time() > deadline:
                return v
            time.sleep(0.1)

    def accept_alerts(self):
        self.js("window.confirm = () => true;")

    def screenshot(self, path):
        png = self.s("GET", "/screenshot")
        with open(path, "wb") as f:
            f.write(base64.b64decode(png))

    def quit(self):
        try:
            self.s("DELETE", "")
        except WebDriverError:
            pass


results = []


def check(ok, what, why=""):
    results.append((bool(ok), what, why))
    print(("ok - " if ok else "not ok - ") + what + ("" if ok else f": {why}"), flush=True)


def login(b, url, user, password):
    b.go(url + "#/login")
    b.type("#login-user", user)
    b.type("#login-password", password)
    b.click("#login-submit")
    return b.wait_js("return document.getElementById('nav') && !document.getElementById('nav').hidden;")


def logout(b):
    b.click("#logout")
    b.find("#login-user")


def visible_nav(b):
    return b.js("return [...document.querySelectorAll('#nav a')].filter(a => !a.hidden)"
                ".map(a => a.textContent);")


def main():
    driver, url, out, spec_file = sys.argv[1:5]
    spec = json.load(open(spec_file))
    shots = os.path.join(out, "screenshots")
    downloads = os.path.join(out, "downloads")
    os.makedirs(shots, exist_ok=True)
    os.makedirs(downloads, exist_ok=True)
    rec = spec["recording"]
    b = Browser(driver, downloads, os.path.join(out, "chromium-profile"))
    try:
        b.go(url)
        b.find("#login-user")
        csp = b.js("return document.querySelectorAll('script:not([src])').length;")
        check(csp == 0, "the console has no inline script")
        b.screenshot(os.path.join(shots, "01-sign-in.png"))

        # --- supervisor: search, play, export; no erasure, and the API refuses it -----------
        u = spec["users"]["supervisor"]
        check(login(b, url, u["name"], u["password"]), "a supervisor signs in")
        check(visible_nav(b) == ["Search", "Policy"], "the supervisor's menu is Search and Policy",
              str(visible_nav(b)))
        b.type("#q-number", spec["far_number"])
        b.click("#search-submit")
        b.find(f"tr[data-id='{rec}']")
        check(True, "searching the other party's number finds the recording made with SIPp")
        b.screenshot(os.path.join(shots, "02-search.png"))
        b.click(f"tr[data-id='{rec}']")
        b.find("#player")
        meta = b.text("#rec-meta")
        check(spec["near_dn"] in meta and spec["far_number"] in meta and "contract" in meta,
              "the recording page shows its line, the other party and the lawful basis", meta[:200])
        # Playing state, then time advancing; a loaded machine (sanitizers, parallel tests) may
        # start slowly, so wait for it rather than for a fixed time.
        state = b.js_async("""
            const done = arguments[arguments.length - 1];
            const a = document.getElementById('player');
            a.muted = true;
            const t0 = Date.now();
            const look = () => {
                if ((!a.paused && a.currentTime > 0.3) || Date.now() - t0 > 15000)
                    done({paused: a.paused, t: a.currentTime, duration: a.duration, ready: a.readyState});
                else
                    setTimeout(look, 100);
            };
            a.play().then(look, e => done({error: String(e)}));
        """)
        check(state.get("paused") is False and state.get("t", 0) > 0.3,
              "the audio element plays (currentTime advances)", str(state))
        dur = state.get("duration") or 0
        check(abs(dur - spec["duration_s"]) < 0.5,
              f"its duration matches the call ({dur:.2f} s, want {spec['duration_s']})", str(state))
        seek = b.js_async("""
            const done = arguments[arguments.length - 1];
            const a = document.getElementById('player');
            a.addEventListener('seeked', () => done(a.currentTime), {once: true});
            a.currentTime = a.duration - 1;
        """)
        check(seek and seek > spec["duration_s"] - 1.5, "seeking works (range requests)", str(seek))
        drawn = b.wait_js("return document.getElementById('wave').dataset.drawn;", 10)
        lanes = b.js("""
            const c = document.getElementById('wave'), x = c.getContext('2d');
            const h = c.height, d = x.getImageData(0, 0, c.width, h).data;
            const ink = (y0, y1) => { let n = 0;
              for (let y = y0; y < y1; y++) for (let i = 0; i < c.width; i++)
                if (d[(y * c.width + i) * 4 + 3] > 0 && d[(y * c.width + i) * 4] < 200) n++;
              return n; };
            return [ink(0, h / 2 - 2), ink(h / 2 + 2, h)];
        """)
        check(drawn and lanes[0] > 1000 and lanes[1] > 1000,
              "the level picture draws both channels (near above, far below)", str(lanes))
        b.screenshot(os.path.join(shots, "03-recording-supervisor.png"))
        check(not b.present("#act-delete") and not b.present("#act-legal-hold"),
              "the supervisor sees no erasure or hold controls")
        before = set(os.listdir(downloads))
        b.click("#act-export")
        deadline = time.time() + 15
        got = []
        while time.time() < deadline:
            got = [f for f in set(os.listdir(downloads)) - before if f.endswith(".tar")]
            if got:
                break
            time.sleep(0.2)
        ok = False
        if got:
            time.sleep(0.5)
            with open(os.path.join(downloads, got[0]), "rb") as f:
                data = f.read()
            ok = data[257:262] == b"ustar" and f"audio/{rec}.wav".encode() in data
        check(ok, "Export downloads a tar with the recording's WAV", str(got))
        refused = b.js_async("""
            const done = arguments[arguments.length - 1];
            const s = JSON.parse(sessionStorage.getItem('bibrec'));
            fetch('/api/v1/recordings/' + arguments[0], {method: 'DELETE', credentials: 'same-origin',
                headers: {'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf},
                body: JSON.stringify({reason: 'trying'})}).then(r => done(r.status));
        """, rec)
        check(refused == 403, "the erasure API itself refuses the supervisor (403)", str(refused))
        nocsrf = b.js_async("""
            const done = arguments[arguments.length - 1];
            fetch('/api/v1/recordings/' + arguments[0] + '/private', {method: 'POST',
                credentials: 'same-origin', headers: {'Content-Type': 'application/json'},
                body: '{}'}).then(r => done(r.status));
        """, rec)
        check(nocsrf == 403, "a state-changing request without the CSRF token is refused", str(nocsrf))
        b.go(url + "#/policy")
        b.find("#policy h2")
        check("Recording profile" in b.text("#policy"), "the policy page shows the recording policy")
        b.screenshot(os.path.join(shots, "04-policy.png"))
        logout(b)

        # --- auditor: checkpoint, verification, audit trail; metadata but no audio ---------------
        u = spec["users"]["auditor"]
        check(login(b, url, u["name"], u["password"]), "an auditor signs in")
        check(visible_nav(b) == ["Search", "Audit", "Policy"], "the auditor's menu", str(visible_nav(b)))
        b.go(url + "#/audit")
        b.find("#checkpoint dd")
        b.click("#verify-run")
        outcome = b.wait_js("const e = document.getElementById('verify-outcome'); return e && e.textContent;", 60)
        check(outcome and outcome.startswith("Everything verifies"), "Verify now runs and reports success",
              str(outcome))
        b.find("#audit-trail tbody tr")
        trail = b.text("#audit-trail")
        check("api-export" in trail and "api-delete" in trail,
              "the audit trail lists the supervisor's export and the refused erasure", trail[:300])
        b.screenshot(os.path.join(shots, "05-audit.png"))
        csv = b.js_async("""
            const done = arguments[arguments.length - 1];
            fetch(document.getElementById('audit-csv').href, {credentials: 'same-origin'})
              .then(r => r.text()).then(t => done(t.split('\\r\\n')[0]));
        """)
        check(csv == "seq,time,type,actor,action,target,source,outcome,detail",
              "the audit trail downloads as CSV", str(csv))
        b.go(url + f"#/rec/{rec}")
        b.find("#rec-meta")
        check(not b.present("#player") and not b.present("#act-export"),
              "the auditor sees the metadata but no player and no export")
        logout(b)

        # --- privacy officer: preview, hold, subject export ------------------------------------
        u = spec["users"]["privacy-officer"]
        check(login(b, url, u["name"], u["password"]), "a privacy officer signs in")
        b.go(url + f"#/rec/{rec}")
        b.find("#act-delete")
        check(b.present("#act-legal-hold") and b.present("#act-mark-private"),
              "the privacy officer has delete, legal hold and mark private")
        b.type("#reason", "complaint under review")
        b.click("#act-legal-hold")
        b.wait_js("return document.body.textContent.includes('under legal hold');", 10)
        b.go(url + "#/privacy")
        b.type("#p-numbers", spec["far_number"])
        b.click("#p-preview")
        b.find("#p-result tbody tr")
        preview = b.text("#p-result")
        check(f"{rec}" in preview and "kept: legal hold" in preview
              and f"{spec['legal_obligation_recording']}" in preview and "kept: legal obligation" in preview
              and spec["erasable_recording"] in preview and "will be erased" in preview,
              "the erasure preview says what will be erased and what is kept, and why", preview[:400])
        b.screenshot(os.path.join(shots, "06-privacy.png"))
        after = b.js_async("""
            const done = arguments[arguments.length - 1];
            fetch('/api/v1/recordings/' + arguments[0], {credentials: 'same-origin'})
              .then(r => r.json()).then(j => done(j.state));
        """, spec["erasable_recording"])
        check(after == "sealed", "a preview erases nothing", str(after))
        logout(b)
    except Exception as e:  # the remaining checks cannot run; say why
        check(False, "the browser session ran to its end", repr(e))
        try:
            b.screenshot(os.path.join(shots, "99-failure.png"))
        except Exception:
            pass
    finally:
        b.quit()
    return 0 if all(r[0] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
