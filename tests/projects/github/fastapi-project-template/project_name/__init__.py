from .app import app
from .config import settings
from .db import engine

__all__ = ["app", "cli", "engine", "settings"]
