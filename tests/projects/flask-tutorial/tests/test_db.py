import sqlite3

import pytest
from flaskr import create_app
from flaskr.db import get_db, init_db


def test_get_close_db(app):
    with app.app_context():
        db = get_db()
        assert db is get_db()

    with pytest.raises(sqlite3.ProgrammingError) as e:
        db.execute("SELECT 1")

    assert "closed" in str(e.value)


def test_init_db_command(runner, monkeypatch):
    class Recorder:
        called = False

    def fake_init_db():
        Recorder.called = True

    monkeypatch.setattr("flaskr.db.init_db", fake_init_db)
    result = runner.invoke(args=["init-db"])
    assert "Initialized" in result.output
    assert Recorder.called


def test_init_db_in_a_new_file(tmp_path):
    database = tmp_path / "new.sqlite"
    app = create_app({"TESTING": True, "DATABASE": str(database)})
    with app.app_context():
        init_db()
        tables = {row[0] for row in get_db().execute("SELECT name FROM sqlite_master")}
    assert {"user", "post"} <= tables
    assert database.stat().st_size > 0
