"""Each template on the home page walked through as its visitors would, in real Chromium."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from tests.conftest import make_account, serve_site, submit_login
from tests.harness import REPO

pytestmark = pytest.mark.e2e


@pytest.fixture
def visitors(browser: Browser) -> Iterator[list[BrowserContext]]:
    contexts = [browser.new_context(), browser.new_context()]
    yield contexts
    for context in contexts:
        context.close()


def test_the_home_page_offers_every_template(browser: Browser, service_url: str) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(service_url)
        options = page.get_by_label("Template").locator("option")
        expect(options.first).to_have_text("Empty")
        assert options.all_inner_texts()[:4] == [
            "Empty",
            "Login Demo",
            "Grocery List",
            "Garage Sale",
        ]
        page.get_by_label("Server name").fill("from-home")
        page.get_by_label("Template").select_option(label="Login Demo")
        page.get_by_role("button", name="Create PeerServer").click()
        expect(page).to_have_url(f"{service_url}server/from-home?template=login")
        expect(page.get_by_role("status")).to_have_text("Serving", timeout=90_000)
        expect(page.get_by_role("button", name="welcome.html", exact=True)).to_be_visible()
    finally:
        context.close()


def test_login_demo(browser: Browser, service_url: str, visitors: list[BrowserContext]) -> None:
    served = serve_site(browser, service_url, "accounts", "login")
    try:
        page = visitors[0].new_page()
        page.goto(served.url)
        site = page.frame_locator("#site")
        expect(site.get_by_role("heading", name="Login!")).to_be_visible()

        make_account(site, "alice", "secret")
        expect(site.get_by_role("status")).to_have_text(
            "Account created for alice. You can log in now."
        )
        expect(site.get_by_role("heading", name="Login!")).to_be_visible()

        make_account(site, "alice", "other")
        expect(site.get_by_role("status")).to_have_text(
            "Sorry, the username alice is already taken."
        )

        site.get_by_role("link", name="Back to login").click()
        expect(site.get_by_role("heading", name="Login!")).to_be_visible()
        for name, password, message in [
            ("alice", "wrong", "That password is not right."),
            ("bob", "secret", "There is no account named bob."),
        ]:
            submit_login(site, name, password)
            expect(site.get_by_role("status")).to_have_text(message)

        submit_login(site, "alice", "secret")
        expect(site.get_by_role("heading", name="Welcome alice!")).to_be_visible()
        expect(site.get_by_text("Great job logging in :)")).to_be_visible()
        page.reload()
        expect(site.get_by_role("heading", name="Welcome alice!")).to_be_visible()
        site.get_by_role("link", name="Log out").click()
        expect(site.get_by_role("status")).to_have_text("You are logged out.")

        # Another visitor logs in with the account the first one made.
        other = visitors[1].new_page()
        other.goto(served.url)
        other_site = other.frame_locator("#site")
        submit_login(other_site, "alice", "secret")
        expect(other_site.get_by_role("heading", name="Welcome alice!")).to_be_visible()

        # The owner sees a salted hash, never the password.
        served.server.get_by_role("tab", name="Database").click()
        table = served.server.get_by_role("table", name="user")
        expect(table).to_contain_text("scrypt:32768:8:1$")
        expect(table).not_to_contain_text("secret")
    finally:
        served.context.close()


def test_grocery_list(browser: Browser, service_url: str, visitors: list[BrowserContext]) -> None:
    served = serve_site(browser, service_url, "groceries", "grocery")
    try:
        page = visitors[0].new_page()
        page.goto(served.url)
        site = page.frame_locator("#site")
        expect(site.get_by_text("Food for the coming week.")).to_be_visible()

        # An empty name on a fresh visit bounces back to the name form.
        with page.expect_event("framenavigated", lambda frame: frame.parent_frame is not None):
            site.get_by_role("button", name="Enter").click()
        expect(site.get_by_text("Food for the coming week.")).to_be_visible()

        site.get_by_label("Name").fill("sophia")
        site.get_by_role("button", name="Enter").click()
        expect(site.get_by_text("You are: sophia")).to_be_visible()
        snacks = site.get_by_role("region", name="Snacks")
        expect(snacks.get_by_role("article", name="cheese")).to_contain_text("Supporters: 2")
        expect(site.get_by_role("region", name="Meals").get_by_role("article")).to_have_count(4)
        expect(site.get_by_role("button", name="+1 cheese")).to_be_visible()
        expect(site.get_by_role("button", name="+1 grapes")).to_have_count(0)  # hers already
        expect(site.get_by_role("button", name="+1 honey")).to_have_count(0)

        snacks.get_by_label("Food for Snacks").fill("apples")
        snacks.get_by_label("Details for Snacks").fill("red")
        snacks.get_by_role("button", name="Add").click()
        notice = site.locator("#notice")
        expect(notice).to_have_text("Success: apples successfully supported.")
        apples = snacks.get_by_role("article", name="apples")
        expect(apples).to_contain_text("Supporters: 1")
        expect(apples).to_contain_text("sophia: red")

        snacks.get_by_label("Food for Snacks").fill("apples")
        snacks.get_by_role("button", name="Add").click()
        expect(notice).to_have_text("Success: Replaced previous request with new request.")
        expect(apples).to_contain_text("Supporters: 1")

        site.get_by_role("button", name="+1 cheese").click()
        cheese = snacks.get_by_role("article", name="cheese")
        expect(cheese).to_contain_text("Supporters: 3")
        expect(cheese).to_contain_text("sophia: yes!")

        snacks.get_by_role("button", name="Add").click()
        expect(notice).to_have_text("Error: Cannot create a blank food.")

        # A second visitor sees the list, and what the first adds shows up by itself.
        other = visitors[1].new_page()
        other.goto(served.url)
        other_site = other.frame_locator("#site")
        other_site.get_by_label("Name").fill("daniel")
        other_site.get_by_role("button", name="Enter").click()
        expect(other_site.get_by_role("article", name="apples")).to_contain_text("sophia")
        sweets = site.get_by_role("region", name="Sweets")
        sweets.get_by_label("Food for Sweets").fill("pears")
        sweets.get_by_role("button", name="Add").click()
        expect(other_site.get_by_role("article", name="pears")).to_contain_text(
            "sophia: yes!", timeout=10_000
        )

        # The session remembers who you are.
        site.get_by_role("link", name="(oops, no I'm not)").click()
        site.get_by_role("button", name="Enter").click()
        expect(site.get_by_text("You are: sophia")).to_be_visible()
    finally:
        served.context.close()


def test_garage_sale(browser: Browser, service_url: str, visitors: list[BrowserContext]) -> None:
    served = serve_site(browser, service_url, "yard", "garage-sale")
    try:
        page = visitors[0].new_page()
        page.goto(served.url)
        site = page.frame_locator("#site")
        expect(site.get_by_role("heading", name="Everything must go")).to_be_visible()
        images = site.get_by_role("img")
        expect(images).to_have_count(10)
        widths = images.evaluate_all(
            "imgs => Promise.all(imgs.map((img) => img.decode().then(() => img.naturalWidth)))"
        )
        assert widths == [480] * 10
        photo = REPO / "site_templates" / "garage-sale" / "static" / "items" / "couch.png"
        digest = site.locator("body").evaluate("""async () => {
            const bytes = await (await fetch('/static/items/couch.png')).arrayBuffer();
            const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
            return Array.from(hash, (b) => b.toString(16).padStart(2, '0')).join('');
        }""")
        assert digest == hashlib.sha256(photo.read_bytes()).hexdigest()

        site.get_by_role("link", name="Couch").click()
        expect(site.get_by_role("heading", name="Couch")).to_be_visible()
        expect(site.get_by_text("$120.00")).to_be_visible()
        site.get_by_role("button", name="Add to cart").click()
        expect(site.get_by_role("status")).to_have_text("Added to your cart.")
        expect(site.get_by_text("Total: $120.00")).to_be_visible()
        expect(site.get_by_role("link", name="Cart (1)")).to_be_visible()

        site.get_by_role("link", name="Keep shopping").click()
        site.get_by_role("link", name="Owl lamp").click()
        site.get_by_role("button", name="Add to cart").click()
        expect(site.get_by_text("Total: $145.00")).to_be_visible()
        site.get_by_role("button", name="Remove Couch").click()
        expect(site.get_by_text("Total: $25.00")).to_be_visible()

        page.reload()  # the cart is in the session
        expect(site.get_by_role("link", name="Cart (1)")).to_be_visible()
        site.get_by_role("link", name="Cart (1)").click()
        site.get_by_role("button", name="Check out").click()
        expect(site.get_by_role("status")).to_have_text("Thank you! You bought: Owl lamp.")
        owl = site.get_by_role("listitem").filter(has_text="Owl lamp")
        expect(owl).to_contain_text("Sold")

        other = visitors[1].new_page()
        other.goto(served.url)
        other_owl = other.frame_locator("#site").get_by_role("listitem").filter(has_text="Owl lamp")
        expect(other_owl).to_contain_text("Sold")
        expect(other.frame_locator("#site").get_by_role("link", name="Cart (0)")).to_be_visible()
    finally:
        served.context.close()
