import main
import pytest
from fastapi.testclient import TestClient


@pytest.fixture
def client(tmp_path, monkeypatch):
    monkeypatch.setattr(main, "DATABASE", tmp_path / "test.db")
    with TestClient(main.app) as client:
        yield client


def test_add_and_list(client):
    response = client.post("/todos", json={"title": "Write tests"})
    assert response.status_code == 201
    assert response.json() == {"id": 1, "title": "Write tests", "done": False}
    assert client.get("/todos").json() == [response.json()]


def test_validation_error(client):
    response = client.post("/todos", json={"title": ""})
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "string_too_short"


def test_missing_todo(client):
    assert client.get("/todos/42").status_code == 404


def test_paging_is_validated(client):
    assert client.get("/todos?limit=0").status_code == 422
