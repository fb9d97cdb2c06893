"""The ``office:`` section of campaign.yaml: what the office round trip needs that a form does not say —
the line a signed export ends with, and the archive a city bureau collects and forwards (the notice's
"汇总整理成压缩文档").

``archive.source`` is a kind of bound form (``lib.forms.bindings``: e.g. ``benchmarks``) whose reports a
city collects, each rendered as a document; ``archive.deadline`` a key of the campaign's ``deadlines``
(the day the city forwards it); ``archive.name`` the zip's name, ``{city}`` standing for the city.

>>> office = Office.model_validate({"signature": "填报单位（盖章）：", "archive": {"source": "benchmarks", "deadline": "forward"}})
>>> office.archive.file_name("广州"), office.signature
('报告汇总-广州.zip', '填报单位（盖章）：')
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from .bindings import KEY_PATTERN

#: The line an official export ends with when the campaign declares none.
DEFAULT_SIGNATURE = "填报单位（盖章）：　　　　　　　　负责人（签字）：　　　　　　　　日期：　　年　　月　　日"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Archive(_Strict):
    """The reports a city bureau collects from its filers and forwards as one zip."""

    #: The kind of bound form whose rows are the reports (a key of ``bindings``).
    source: str = Field(pattern=KEY_PATTERN)
    #: A key of the campaign's ``deadlines``: the day the city forwards its archive.
    deadline: str = Field(pattern=KEY_PATTERN)
    #: The zip's name without ``.zip``; ``{city}`` is the city's name.
    name: str = "报告汇总-{city}"

    @field_validator("name")
    @classmethod
    def _names_the_city(cls, pattern: str) -> str:
        """Every city's archive needs its own name: the pattern says where the city goes, and nothing a
        file name cannot hold."""
        if pattern.count("{city}") != 1 or any(c in pattern for c in '/\\:*?"<>|') or not pattern.replace("{city}", "").strip():
            raise PydanticCustomError("archive_name", "archive.name 应恰好含一个 {city}（代表地市名称），且不含 / \\ : * ? \" < > | 等文件名不允许的字符", {})
        return pattern

    def file_name(self, city: str) -> str:
        return self.name.replace("{city}", city) + ".zip"


class Office(_Strict):
    """Exports in the official layout and the city's archive."""

    #: The signature/stamp line under an official export's rows.
    signature: str = Field(default=DEFAULT_SIGNATURE, min_length=1, max_length=200)
    #: None: the campaign has no archive to forward.
    archive: Archive | None = None
