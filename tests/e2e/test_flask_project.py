"""A Flask project written the way the Flask tutorial writes it runs unmodified: imported as a
zip through "Import site", found through its create_app() factory, its init-db command run
from the console, and used by a visitor from registering to deleting a post."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.conftest import serve_project
from tests.harness import TESTS

pytestmark = pytest.mark.e2e

PROJECT = TESTS / "projects" / "flask-tutorial"


def test_the_flask_tutorial_project_runs_unmodified(
    browser: Browser, service_url: str, tmp_path: Path
) -> None:
    served = serve_project(browser, service_url, "flaskr", PROJECT, tmp_path)
    server, visitor = served.server, browser.new_context()
    try:
        expect(server.locator("#app-module")).to_have_text("App: flaskr:create_app()")
        expect(server.get_by_role("button", name="schema.sql", exact=True)).to_be_visible()

        server.get_by_role("tab", name="Console").click()
        console = server.get_by_role("textbox", name="Console")
        console.fill("flask init-db")
        console.press("Enter")
        expect(server.locator("#console-output")).to_contain_text("Initialized the database.")

        page = visitor.new_page()
        page.goto(served.url)
        site = page.frame_locator("#site")
        expect(site.get_by_role("heading", name="Posts")).to_be_visible()

        for attempt in range(2):
            site.get_by_role("link", name="Register").click()
            expect(site.get_by_role("heading", name="Register")).to_be_visible()
            site.get_by_label("Username").fill("ada")
            site.get_by_label("Password").fill("lovelace")
            site.get_by_role("button", name="Register").click()
            if attempt == 0:
                expect(site.get_by_role("heading", name="Log In")).to_be_visible()
        expect(site.get_by_text("User ada is already registered.")).to_be_visible()

        site.get_by_role("link", name="Log In").click()
        expect(site.get_by_role("heading", name="Log In")).to_be_visible()
        site.get_by_label("Username").fill("ada")
        site.get_by_label("Password").fill("babbage")
        site.get_by_role("button", name="Log In").click()
        expect(site.get_by_text("Incorrect password.")).to_be_visible()
        site.get_by_label("Username").fill("ada")
        site.get_by_label("Password").fill("lovelace")
        site.get_by_role("button", name="Log In").click()
        expect(site.get_by_role("link", name="Log Out")).to_be_visible()

        site.get_by_role("link", name="New").click()
        site.get_by_label("Title").fill("Hello")
        site.get_by_label("Body").fill("The first post, served from a browser tab.")
        site.get_by_role("button", name="Save").click()
        post = site.get_by_role("article")
        expect(post).to_contain_text("Hello")
        expect(post).to_contain_text("by ada on 20")
        expect(post).to_contain_text("The first post, served from a browser tab.")

        post.get_by_role("link", name="Edit").click()
        expect(site.get_by_role("heading", name='Edit "Hello"')).to_be_visible()
        site.get_by_label("Title").fill("Hello again")
        site.get_by_role("button", name="Save").click()
        expect(site.get_by_role("article").get_by_role("heading")).to_have_text("Hello again")

        site.get_by_role("article").get_by_role("link", name="Edit").click()
        page.once("dialog", lambda dialog: dialog.accept())  # "Are you sure?"
        site.get_by_role("button", name="Delete").click()
        expect(site.get_by_role("heading", name="Posts")).to_be_visible()
        expect(site.get_by_role("article")).to_have_count(0)

        server.get_by_role("tab", name="Database").click()
        expect(server.get_by_role("combobox", name="Database")).to_have_value(
            "instance/flaskr.sqlite"
        )
        server.get_by_role("button", name="user (1 rows)").click()
        expect(server.get_by_role("table", name="user")).to_contain_text("scrypt:32768:8:1$")

        # The owner names the app, as FLASK_APP does; a wrong name is reported, not guessed.
        server.once("dialog", lambda dialog: dialog.accept("flaskr.nothing_here"))
        server.get_by_role("button", name="Change app").click()
        expect(server.locator("#load-error")).to_contain_text("flaskr.nothing_here")
        server.once("dialog", lambda dialog: dialog.accept("flaskr:create_app()"))
        server.get_by_role("button", name="Change app").click()
        expect(server.locator("#load-error")).to_be_hidden()
        expect(server.locator("#app-module")).to_have_text("App: flaskr:create_app()")
        page.reload()
        expect(site.get_by_role("heading", name="Posts")).to_be_visible()
    finally:
        visitor.close()
        served.context.close()
