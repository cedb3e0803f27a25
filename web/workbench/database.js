// The database view: the site's sqlite tables with their rows, a page at a time, and an SQL
// box whose results show as a table and whose errors show plainly.

const PAGE = 50;

export class DatabaseView {
  constructor({ host, select, tables, tableView, form, sql, result }) {
    Object.assign(this, { host, select, tables, tableView, form, sql, result });
    select.addEventListener("change", () => this.showTables());
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.run();
    });
  }

  async refresh() {
    const databases = await this.host.call("databases");
    const chosen = this.select.value;
    this.select.replaceChildren(...databases.map((path) => new Option(path, path)));
    if (databases.includes(chosen)) this.select.value = chosen;
    if (!databases.length) {
      this.tables.textContent = "This site has no sqlite database yet.";
      this.tableView.replaceChildren();
      return;
    }
    await this.showTables();
  }

  async showTables() {
    const tables = await this.host.call("tables", this.select.value);
    this.tables.replaceChildren(
      ...tables.map(({ name, rows }) => {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = `${name} (${rows} rows)`;
        button.addEventListener("click", () => this.showRows(name, 0));
        return button;
      }),
    );
    if (this.table && tables.some((t) => t.name === this.table)) {
      await this.showRows(this.table, this.offset);
    } else if (tables.length) {
      await this.showRows(tables[0].name, 0);
    }
  }

  async showRows(table, offset) {
    this.table = table;
    this.offset = offset;
    const page = await this.host.call("rows", this.select.value, table, offset, PAGE);
    const heading = document.createElement("h3");
    heading.textContent = table;
    const pager = document.createElement("div");
    pager.className = "pager";
    const last = Math.min(offset + page.rows.length, page.total);
    pager.append(`Rows ${page.total ? offset + 1 : 0}–${last} of ${page.total} `);
    if (offset > 0)
      pager.append(pagerButton("Previous page", () => this.showRows(table, offset - PAGE)));
    if (last < page.total)
      pager.append(pagerButton("Next page", () => this.showRows(table, offset + PAGE)));
    this.tableView.replaceChildren(heading, renderTable(page.columns, page.rows, table), pager);
  }

  async run() {
    this.result.replaceChildren();
    if (!this.select.value) {
      this.result.append(errorLine("This site has no sqlite database yet."));
      return;
    }
    try {
      const { columns, rows, changed } = await this.host.call(
        "query",
        this.select.value,
        this.sql.value,
      );
      if (columns.length) this.result.append(renderTable(columns, rows, "Query result"));
      else this.result.append(`Done: ${changed} row(s) changed.`);
      await this.showTables();
    } catch (error) {
      this.result.append(errorLine(error.message));
    }
  }
}

function renderTable(columns, rows, label) {
  const table = document.createElement("table");
  table.setAttribute("aria-label", label);
  const head = table.createTHead().insertRow();
  for (const column of columns)
    head.append(Object.assign(document.createElement("th"), { textContent: column }));
  const body = table.createTBody();
  for (const row of rows) {
    const line = body.insertRow();
    for (const value of row)
      line.insertCell().textContent = value === null ? "NULL" : String(value);
  }
  return table;
}

function pagerButton(text, action) {
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = text;
  button.addEventListener("click", action);
  return button;
}

function errorLine(text) {
  const line = document.createElement("p");
  line.className = "error";
  line.setAttribute("role", "alert");
  line.textContent = text;
  return line;
}
