"""A small FastAPI app, as its tutorial writes one: pydantic models, a dependency, response
models, validation errors, and a page that uses the API."""

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

DATABASE = Path(__file__).with_name("todos.db")

app = FastAPI(title="Todos")


class TodoIn(BaseModel):
    title: str = Field(min_length=1, max_length=100)
    done: bool = False


class Todo(TodoIn):
    id: int


def database() -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(DATABASE)
    connection.execute(
        "CREATE TABLE IF NOT EXISTS todo (id INTEGER PRIMARY KEY, title TEXT, done INTEGER)"
    )
    try:
        yield connection
        connection.commit()
    finally:
        connection.close()


Database = Annotated[sqlite3.Connection, Depends(database)]


class Page(BaseModel):
    limit: int = Field(10, ge=1, le=100)
    offset: int = Field(0, ge=0)


@app.get("/todos", response_model=list[Todo])
def list_todos(db: Database, page: Annotated[Page, Depends()]) -> list[Todo]:
    rows = db.execute(
        "SELECT id, title, done FROM todo ORDER BY id LIMIT ? OFFSET ?", (page.limit, page.offset)
    )
    return [Todo(id=id, title=title, done=bool(done)) for id, title, done in rows]


@app.post("/todos", response_model=Todo, status_code=201)
def add_todo(todo: TodoIn, db: Database) -> Todo:
    cursor = db.execute("INSERT INTO todo (title, done) VALUES (?, ?)", (todo.title, todo.done))
    return Todo(id=cursor.lastrowid, **todo.model_dump())


@app.get("/todos/{todo_id}", response_model=Todo)
def get_todo(todo_id: int, db: Database) -> Todo:
    row = db.execute("SELECT id, title, done FROM todo WHERE id = ?", (todo_id,)).fetchone()
    if row is None:
        raise HTTPException(status_code=404, detail="No such todo")
    return Todo(id=row[0], title=row[1], done=bool(row[2]))


@app.get("/", response_class=HTMLResponse)
def home() -> str:
    return """<!doctype html>
<title>Todos</title>
<h1>Todos</h1>
<form id="add"><label>Title <input name="title"></label> <button>Add</button></form>
<p id="error" role="alert"></p>
<ul id="todos"></ul>
<script>
async function show() {
  const todos = await (await fetch("/todos?limit=100")).json();
  document.getElementById("todos").replaceChildren(...todos.map((todo) => {
    const item = document.createElement("li");
    item.textContent = `${todo.id}: ${todo.title}`;
    return item;
  }));
}
document.getElementById("add").addEventListener("submit", async (event) => {
  event.preventDefault();
  const title = new FormData(event.target).get("title");
  const response = await fetch("/todos", {method: "POST",
    headers: {"Content-Type": "application/json"}, body: JSON.stringify({title})});
  const answer = await response.json();
  document.getElementById("error").textContent = response.ok ? ""
    : `${response.status}: ${answer.detail[0].msg}`;
  await show();
});
show();
</script>
"""
