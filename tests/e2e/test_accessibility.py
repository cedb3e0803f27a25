"""WCAG 2 A and AA, as axe-core (npm) checks them, on what people use: the home page, the
server tab's Editor, Database, Console and Standbys, and a visitor's shell around a site."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import serve_site
from tests.harness import REPO

pytestmark = pytest.mark.e2e

AXE = (REPO / "node_modules" / "axe-core" / "axe.min.js").read_text()

RUN_AXE = """async () => {
  const { violations } = await axe.run(document, {
    runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
  });
  return violations.map(({ id, impact, nodes }) =>
    `${id} (${impact}): ${nodes.map((node) => node.target.join(" ")).join(", ")}`);
}"""


def violations(page: Page) -> list[str]:
    """axe-core's WCAG 2 A/AA violations on ``page`` as it is now (loaded through the DevTools
    protocol, which a page's Content-Security-Policy does not govern)."""
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.evaluate(AXE)
    return page.evaluate(RUN_AXE)


def test_no_wcag_violations_where_people_look(browser: Browser, service_url: str) -> None:
    served = serve_site(browser, service_url, "accessible", "notes")
    visitor = browser.new_context()
    try:
        home = served.context.new_page()
        home.goto(service_url)
        expect(home.get_by_role("heading").first).to_be_visible()
        found = {"home page": violations(home)}

        server = served.server
        expect(server.locator(".cm-content")).to_be_visible()
        found["server tab, Editor"] = violations(server)
        for tab in ("Database", "Console", "Standbys"):
            server.get_by_role("tab", name=tab).click()
            expect(server.get_by_role("tab", name=tab)).to_have_attribute("aria-selected", "true")
            found[f"server tab, {tab}"] = violations(server)

        page = visitor.new_page()
        page.goto(served.url)
        expect(page.frame_locator("#site").get_by_role("heading").first).to_be_visible()
        found["visitor's shell"] = violations(page)

        assert {where: said for where, said in found.items() if said} == {}
    finally:
        visitor.close()
        served.context.close()
