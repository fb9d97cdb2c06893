"""Demo data: a deterministic generator of realistic rows for the shipped forms, and a seeder."""

from .lexicon import CITY_INFO
from .seed import DemoRow, generate, seed_store

__all__ = ["CITY_INFO", "DemoRow", "generate", "seed_store"]
