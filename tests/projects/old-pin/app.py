from flask import Flask
from sqlalchemy import String, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

app = Flask(__name__)
engine = create_engine(f"sqlite:///{app.root_path}/notes.db")


class Base(DeclarativeBase):
    pass


class Note(Base):
    __tablename__ = "note"
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(200))


Base.metadata.create_all(engine)


@app.get("/")
def notes():
    with Session(engine) as session:
        if not session.scalar(select(Note).limit(1)):
            session.add(Note(text="Kept by SQLAlchemy"))
            session.commit()
        return (
            "<ul>" + "".join(f"<li>{n.text}</li>" for n in session.scalars(select(Note))) + "</ul>"
        )
