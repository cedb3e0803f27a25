"""A site configured in YAML that builds links with aiohttp's parts: PyYAML, whose wheels are
compiled for other platforms only, is built from its source in the server tab without libyaml
(it runs as pure Python); aiohttp, multidict, yarl, frozenlist and propcache come as wheels."""

import aiohttp
import yaml
from flask import Flask, jsonify
from frozenlist import FrozenList
from multidict import MultiDict
from propcache.api import cached_property
from yarl import URL

app = Flask(__name__)

SETTINGS = """
title: Reading list
books:
  - {title: Dune, pages: 412}
  - {title: Emma, pages: 474}
"""


class Shelf:
    def __init__(self, books):
        self.books = books

    @cached_property
    def pages(self):
        return sum(book["pages"] for book in self.books)


@app.get("/")
def home():
    settings = yaml.safe_load(SETTINGS)
    shelf = Shelf(settings["books"])
    query = MultiDict([("tag", "sf"), ("tag", "classic")])
    link = URL("https://library.example/search").with_query(query)
    titles = FrozenList(book["title"] for book in settings["books"])
    titles.freeze()
    return jsonify(
        title=settings["title"],
        pages=shelf.pages,
        dumped=yaml.safe_dump({"ok": True}).strip(),
        accelerated=yaml.__with_libyaml__,
        link=str(link),
        titles=list(titles),
        aiohttp=aiohttp.__version__.split(".")[0],
    )
