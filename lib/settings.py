"""Every setting, declared once with its default and help text.

Values come from environment variables (``APP_<NAME>``) or from the ``[app]`` table of
``.streamlit/secrets.toml``; the environment wins. ``load_settings`` is pure: the Streamlit layer
reads the environment and secrets once and passes them in. The README's settings table is checked
against SETTINGS by a test.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str
    parse: Callable[[str], Any] = str


def _bool(text: str) -> bool:
    return str(text).strip().lower() in ("1", "true", "yes", "on", "是")


def _date_or_none(text: str) -> dt.date | None:
    return dt.date.fromisoformat(text) if str(text).strip() else None


SETTINGS: tuple[Setting, ...] = (
    Setting("store_backend", "local", "存储后端：local（本地工作簿，默认）或 gsheets（Google 表格）"),
    Setting("data_dir", "data", "本地存储目录：日志、工作簿和草稿都在这里", Path),
    Setting("workbook_name", "campaign.xlsx", "本地工作簿文件名（位于 data_dir 下）"),
    Setting("forms_dir", "forms", "表单定义（YAML）所在目录；修改后下一次页面运行即生效", Path),
    Setting("demo_data", "true", "首次启动且存储为空时写入演示数据", _bool),
    Setting("demo_rows", "2000", "演示数据中附件1的行数（附件3约为其 40%）", int),
    Setting("demo_identity", "true", "显示侧边栏“演示身份”选择器（登录功能上线前使用）", _bool),
    Setting("campaign_today", "", "活动时钟：看板按此日期（YYYY-MM-DD）显示；留空为当天", _date_or_none),
)


@dataclass(frozen=True)
class Settings:
    store_backend: str
    data_dir: Path
    workbook_name: str
    forms_dir: Path
    demo_data: bool
    demo_rows: int
    demo_identity: bool
    campaign_today: dt.date | None

    @property
    def workbook_path(self) -> Path:
        return self.data_dir / self.workbook_name


def load_settings(environ: Mapping[str, str], secrets: Mapping[str, Any] | None = None) -> Settings:
    """Resolve every setting: ``APP_<NAME>`` in ``environ``, then ``secrets['app'][name]``, then default.

    >>> load_settings({"APP_DEMO_ROWS": "300"}).demo_rows
    300
    """
    table = dict((secrets or {}).get("app", {}) or {})
    values = {}
    for s in SETTINGS:
        raw = environ.get(f"APP_{s.name.upper()}", table.get(s.name, s.default))
        values[s.name] = s.parse(str(raw)) if not isinstance(raw, bool) else raw
    return Settings(**values)
