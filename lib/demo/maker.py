"""The demo generator's building blocks: the row type and a seeded maker of names, codes and
phone numbers that never repeats a firm or a voucher."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lib.core.records import Actor
from lib.core.statuses import SUBMITTED
from lib.forms.spec import FormSpec
from lib.forms.types import CREDIT_CODE_CHARS, credit_code_check_char

from .lexicon import (
    GIVEN,
    MOBILE_PREFIXES,
    SURNAMES,
    TRADE_EXTRA,
    CityInfo,
)

D = dt.date


@dataclass(frozen=True)
class DemoRow:
    """One row to append: typed field values, who files it and its status."""

    values: dict[str, Any]
    actor: Actor
    status: str = SUBMITTED


NAME_TRIES = 20


class Maker:
    """Draws names, codes, dates and phones from one seeded generator, never repeating a code."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.codes: set[str] = set()
        self.names: set[str] = set()
        self.full: set[str] = set()  # name spaces whose plain names ran out
        self.serial = 0

    def credit_code(self, region: str) -> str:
        """A valid 统一社会信用代码 of an enterprise (91) registered in ``region`` (6 digits)."""
        while True:
            if self.rng.random() < 0.7:  # registered after 2015: organisation code starts with MA
                body = "MA" + "".join(self.rng.choice(CREDIT_CODE_CHARS[:10] + "ABCDEFGH") for _ in range(7))
            else:
                body = "".join(self.rng.choice("0123456789") for _ in range(8)) + self.rng.choice("0123456789X")
            first17 = "91" + region + body
            code = first17 + credit_code_check_char(first17)
            if code not in self.codes:
                self.codes.add(code)
                return code

    def unique(self, make: Callable[[str], str], space: str = "") -> str:
        """A name not drawn before. ``make(extra)`` draws a name whose trade name ends in ``extra``:
        plain names first (``extra`` = ""); once they keep colliding in ``space`` (a place, say), a
        third character (宏达兴); and if those collide too, a number (宏达兴12) — so any number of
        rows gets distinct names, the same ones for the same seed."""
        if space not in self.full:
            for _ in range(NAME_TRIES):
                name = make("")
                if name not in self.names:
                    self.names.add(name)
                    return name
            self.full.add(space)
        for _ in range(NAME_TRIES):
            name = make(self.rng.choice(TRADE_EXTRA))
            if name not in self.names:
                self.names.add(name)
                return name
        while True:
            self.serial += 1
            name = make(self.rng.choice(TRADE_EXTRA) + str(self.serial))
            if name not in self.names:
                self.names.add(name)
                return name

    def person(self) -> str:
        return self.rng.choice(SURNAMES) + "".join(self.rng.choice(GIVEN) for _ in range(self.rng.choice((1, 2, 2))))

    def phone(self, city: CityInfo) -> str:
        if self.rng.random() < 0.85:
            return self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
        return f"{city.area_code}-{self.rng.randint(2, 8)}{self.rng.randrange(10**7):07d}"

    def date(self, start: dt.date, end: dt.date) -> dt.date:
        return start + dt.timedelta(days=self.rng.randint(0, (end - start).days))

    def weighted(self, pairs):
        items, weights = zip(*pairs, strict=True)
        return self.rng.choices(items, weights=weights)[0]


def money(cents: int) -> float:
    return round(cents / 100, 2)


def blank_row(form: FormSpec) -> dict[str, Any]:
    return {f.key: None for f in form.all_fields()}
