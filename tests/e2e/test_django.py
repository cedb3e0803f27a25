"""A Django project, as `django-admin startproject` makes it (Django from the lock file), with
the polls app of Django's tutorial: `python manage.py makemigrations / migrate /
createsuperuser / test` in the Console, the admin used by a visitor (static files, login,
CSRF, the session cookie kept by the server tab), the app's page seen by another visitor, and
the ALLOWED_HOSTS guidance on a public address."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import django
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import BOOT_TIMEOUT, TEST_SITES, console_run, serve_project
from tests.deployment import Certificate
from tests.e2e.test_workbench import open_file, replace_and_save
from tests.harness import TEST_DOMAIN, TESTS, free_port, peerserver_service

pytestmark = pytest.mark.e2e

POLLS = TESTS / "projects" / "django-polls" / "polls"
INSTALL_TIMEOUT = 180_000
PASSWORD = "a-long-passphrase-9"


def tutorial_project(folder: Path) -> Path:
    """`django-admin startproject mysite`, the polls app, and the two edits the tutorial asks
    of its reader; Django pinned in requirements.txt to the version that made it."""
    folder.mkdir()
    admin = Path(sys.executable).with_name("django-admin")
    subprocess.run([str(admin), "startproject", "mysite", "."], cwd=folder, check=True)
    shutil.copytree(POLLS, folder / "polls")
    settings = folder / "mysite" / "settings.py"
    settings.write_text(
        settings.read_text().replace(
            "INSTALLED_APPS = [\n", 'INSTALLED_APPS = [\n    "polls.apps.PollsConfig",\n'
        )
    )
    urls = folder / "mysite" / "urls.py"
    route = '    path("polls/", include("polls.urls")),\n'
    urls.write_text(
        urls.read_text()
        .replace("from django.urls import path", "from django.urls import include, path")
        .replace("urlpatterns = [\n", f"urlpatterns = [\n{route}")
    )
    (folder / "requirements.txt").write_text(f"Django=={django.__version__}\n")
    return folder


@pytest.fixture(scope="module")
def index_service_url() -> Iterator[str]:
    with peerserver_service(TEST_SITES) as (url, _process):
        yield url


def answer(server: Page, text: str) -> None:
    """Answer the question the Console shows (a password is typed unseen)."""
    field = server.locator("#console-input")
    expect(field).to_be_enabled()
    field.fill(text)
    field.press("Enter")


def test_the_django_tutorial_in_a_server_tab(
    browser: Browser, index_service_url: str, tmp_path: Path
) -> None:
    project = tutorial_project(tmp_path / "mysite")
    served = serve_project(browser, index_service_url, "polls", project, tmp_path)
    server = served.server
    try:
        expect(server.locator("#app-module")).to_have_text(
            "App: Django: mysite", timeout=INSTALL_TIMEOUT
        )
        expect(server.get_by_role("status")).to_have_text("Serving", timeout=INSTALL_TIMEOUT)
        made = console_run(server, "python manage.py makemigrations polls")
        assert "Migrations for 'polls'" in made and "Create model Question" in made, made
        migrated = console_run(server, "python manage.py migrate")
        assert "Applying polls.0001_initial... OK" in migrated, migrated

        # createsuperuser asks its questions in the Console, as at a terminal.
        console_run(server, "python manage.py createsuperuser")
        output = server.locator("#console-output")
        expect(output).to_contain_text("Username (leave blank to use")
        answer(server, "admin")
        expect(output).to_contain_text("Email address:")
        answer(server, "admin@example.org")
        expect(output).to_contain_text("Password:")
        expect(server.locator("#console-input")).to_have_attribute("type", "password")
        answer(server, PASSWORD)
        expect(output).to_contain_text("Password (again):")
        answer(server, PASSWORD)
        expect(output).to_contain_text("Superuser created successfully.")
        assert PASSWORD not in output.inner_text()

        # Django's tables, in the Database view like any other sqlite database.
        server.get_by_role("tab", name="Database").click()
        expect(server.locator("#tables")).to_contain_text("auth_user")
        expect(server.locator("#tables")).to_contain_text("polls_question")

        # A visitor signs in to the admin (its CSS from the admin's static files) and adds a
        # question with two choices.
        editor = browser.new_context()
        page = editor.new_page()
        page.goto(served.url + "admin/")
        admin = page.frame_locator("#site")
        expect(admin.get_by_role("link", name="Django administration")).to_be_visible()
        expect(admin.locator("#header")).to_have_css("background-color", "rgb(65, 118, 144)")
        admin.get_by_label("Username").fill("admin")
        admin.get_by_label("Password").fill(PASSWORD)
        admin.get_by_role("button", name="Log in").click()
        expect(admin.get_by_role("heading", name="Site administration")).to_be_visible()
        admin.get_by_role("link", name="Questions").click()
        admin.get_by_role("link", name="Add question").click()
        admin.get_by_label("Question text").fill("What's up?")
        admin.get_by_role("link", name="Today").click()  # the admin's own JavaScript
        admin.get_by_role("link", name="Now").click()
        admin.locator("#id_choice_set-0-choice_text").fill("Not much")
        admin.locator("#id_choice_set-1-choice_text").fill("The sky")
        admin.get_by_role("button", name="Save", exact=True).click()
        expect(admin.get_by_text("was added successfully")).to_be_visible()

        # Another visitor sees it on the app's page and votes (a form with Django's CSRF).
        voter = browser.new_context()
        poll = voter.new_page()
        poll.goto(served.url + "polls/")
        site = poll.frame_locator("#site")
        site.get_by_role("link", name="What's up?").click()
        site.get_by_label("The sky").check()
        site.get_by_role("button", name="Vote").click()
        expect(site.get_by_role("listitem")).to_have_text(
            ["Not much -- 0 votes", "The sky -- 1 vote"]
        )
        voter.close()
        editor.close()

        # Django's own test runner, in a Python of its own as at a terminal, its output as it
        # comes; the site's database is as it was.
        tested = console_run(server, "python manage.py test polls", timeout_ms=INSTALL_TIMEOUT)
        assert "Ran 6 tests" in tested and "OK" in tested, tested
        count = console_run(
            server,
            'python manage.py shell -c "from polls.models import Question; '
            'print(Question.objects.count())"',
        )
        assert count.strip().splitlines()[-1] == "1", count  # Django 5.2 says what it imported
        shell = console_run(server, "python manage.py shell")
        assert "This console is Django's shell already" in shell

        # Changed code needs a new Python, as runserver restarts its process: saving does it.
        server.get_by_role("tab", name="Editor").click()
        open_file(server, "index.html")
        replace_and_save(server, "<h1>Polls of the day</h1>\n{{ latest_question_list|length }}")
        expect(server.locator("#log")).to_contain_text(
            "Django sets a project up once per Python: restarting Python"
        )
        expect(server.get_by_role("status")).to_have_text("Serving", timeout=BOOT_TIMEOUT)
        late = browser.new_context()
        page = late.new_page()
        page.goto(served.url + "polls/")
        expect(page.frame_locator("#site").get_by_role("heading")).to_have_text("Polls of the day")
        late.close()
    finally:
        served.context.close()


def test_a_public_address_that_allowed_hosts_refuses_is_named(
    browser: Browser, test_certificate: Certificate, tmp_path: Path
) -> None:
    """startproject leaves ALLOWED_HOSTS empty, which DEBUG lets *.localhost through: on a
    public address the owner is told what to write, before any visitor meets a bare 400."""
    project = tutorial_project(tmp_path / "mysite")
    port = free_port()
    public = f"https://{TEST_DOMAIN}:{port}"
    options = ["--public-url", public, "--tls-cert", str(test_certificate.cert),
               "--tls-key", str(test_certificate.key)]  # fmt: skip
    with peerserver_service(
        TEST_SITES, options=options, port=port, context=test_certificate.client_context()
    ) as (url, _process):
        served = serve_project(browser, url, "djangosite", project, tmp_path)
        server = served.server
        expect(server.locator("#app-module")).to_have_text(
            "App: Django: mysite", timeout=INSTALL_TIMEOUT
        )
        guidance = server.locator("#load-error")
        expect(guidance).to_contain_text(
            f"this site's address is djangosite.{TEST_DOMAIN}, which ALLOWED_HOSTS = [] in "
            "mysite/settings.py does not allow"
        )
        expect(guidance).to_contain_text(f'ALLOWED_HOSTS = ["djangosite.{TEST_DOMAIN}"]')
        served.context.close()
