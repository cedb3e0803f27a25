"""HttpOnly cookies out of page scripts' reach, attacked as a cross-site-scripting bug would: on
the Login Demo, a script in the site's page (and in the shell around it, same origin) reads
everything it can — document.cookie, localStorage, sessionStorage, every IndexedDB database,
CacheStorage, the Cookie Store, every message the shell and its service worker exchange — and
the session cookie is nowhere in it. Copied to another browser, what it found logs nobody in.
The session itself lasts: through a restart of the visitor's browser and a reload of the
server tab."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserType, Frame, Page, expect

from tests.conftest import BOOT_TIMEOUT, make_account, serve_site, submit_login
from tests.measure import site_frame

pytestmark = pytest.mark.e2e

# Installed in the shell before anything happens: every message its ports carry is recorded,
# as a script of the site could do from the page it shares the origin with.
_EAVESDROP = """() => {
    window.__overheard = [];
    const record = (data) => {
        try { window.__overheard.push(JSON.stringify(data, (k, v) =>
            v instanceof Uint8Array ? new TextDecoder().decode(v) : v)); } catch {}
    };
    const post = MessagePort.prototype.postMessage;
    MessagePort.prototype.postMessage = function (data, ...rest) {
        record(data);
        return post.call(this, data, ...rest);
    };
    navigator.serviceWorker.addEventListener("message", (event) => record(event.data));
}"""

_EVERYTHING_A_SCRIPT_CAN_READ = """async () => {
    const seen = [document.cookie, ...(window.parent.__overheard || [])];
    for (const store of [localStorage, sessionStorage]) {
        for (let i = 0; i < store.length; i++) seen.push(store.key(i), store.getItem(store.key(i)));
    }
    const done = (request) => new Promise((resolve, reject) => {
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
    });
    for (const { name } of await indexedDB.databases()) {
        const db = await done(indexedDB.open(name));
        for (const storeName of db.objectStoreNames) {
            const store = db.transaction(storeName).objectStore(storeName);
            seen.push(JSON.stringify(await done(store.getAllKeys())));
            for (const value of await done(store.getAll())) {
                try { seen.push(JSON.stringify(value)); } catch { seen.push(String(value)); }
            }
        }
        db.close();
    }
    for (const name of await caches.keys()) {
        const cache = await caches.open(name);
        for (const request of await cache.keys()) {
            seen.push(request.url, await (await cache.match(request)).text());
        }
    }
    if (self.cookieStore) seen.push(JSON.stringify(await cookieStore.getAll()));
    return seen.join("\\n");
}"""


def log_in(page: Page, site_url: str) -> Frame:
    page.goto(site_url)
    page.evaluate(_EAVESDROP)
    site = page.frame_locator("#site")
    make_account(site, "alice", "secret")
    expect(site.get_by_role("status")).to_have_text(
        "Account created for alice. You can log in now."
    )
    submit_login(site, "alice", "secret")
    expect(site.get_by_role("heading", name="Welcome alice!")).to_be_visible()
    return site_frame(page)


def kept_session_cookie(server: Page, name: str) -> str:
    """The session cookie as the server tab keeps it (its owner may look: it is the server)."""
    source = (
        "print(*(open(p).read() for p in "
        f"__import__('glob').glob('/peerserver-state/{name}/cookies/*.lwp')))"
    )
    kept = server.evaluate("(source) => window.peerServerHost.call('run', source)", source)
    match = re.search(r'session="?([^";\s]+)', kept)
    assert match, f"no session cookie kept by the server tab: {kept!r}"
    return match.group(1)


def test_httponly_cookies_stay_out_of_scripts_reach_and_in_the_session(
    browser: Browser,
    browser_type: BrowserType,
    browser_type_launch_args: dict,
    service_url: str,
    tmp_path: Path,
) -> None:
    served = serve_site(browser, service_url, "accounts-safe", "login")
    profile = tmp_path / "visitor-profile"

    def visitor_browser():
        return browser_type.launch_persistent_context(profile, **browser_type_launch_args)

    visitor = visitor_browser()
    thief = browser.new_context()
    try:
        page = visitor.new_page()
        frame = log_in(page, served.url)
        seen = frame.evaluate(_EVERYTHING_A_SCRIPT_CAN_READ)
        value = kept_session_cookie(served.server, "accounts-safe")
        assert len(value) > 20
        assert value not in seen
        assert "session=" not in seen

        # Everything the script found, carried to another browser: nobody is logged in there.
        elsewhere = thief.new_page()
        elsewhere.goto(served.url)
        expect(
            elsewhere.frame_locator("#site").get_by_role("heading", name="Login!")
        ).to_be_visible()
        site_frame(elsewhere).evaluate(
            """(seen) => { for (const line of seen.split("\\n")[0].split("; ")) {
                if (line) document.cookie = line; } }""",
            seen,
        )
        elsewhere.goto(f"{served.url}welcome")
        expect(
            elsewhere.frame_locator("#site").get_by_role("heading", name="Login!")
        ).to_be_visible()

        # A script in the visitor's own page can still use the session, as with a real
        # HttpOnly cookie: its requests carry it.
        assert "Welcome alice!" in frame.evaluate("async () => (await fetch('/welcome')).text()")

        # The visitor's browser restarts: its identity, and so its session, is still there.
        visitor.close()
        visitor = visitor_browser()
        page = visitor.new_page()
        page.goto(f"{served.url}welcome")
        site = page.frame_locator("#site")
        expect(site.get_by_role("heading", name="Welcome alice!")).to_be_visible()

        # The server tab reloads: the jar was kept with it.
        served.server.reload()
        expect(served.server.get_by_role("status")).to_have_text("Serving", timeout=BOOT_TIMEOUT)
        page.reload()
        expect(site.get_by_role("heading", name="Welcome alice!")).to_be_visible()
        site.get_by_role("link", name="Log out").click()
        expect(site.get_by_role("heading", name="Login!")).to_be_visible()
        page.goto(f"{served.url}welcome")  # logging out deleted it where it is kept
        expect(site.get_by_role("heading", name="Login!")).to_be_visible()
    finally:
        visitor.close()
        thief.close()
        served.context.close()
