"""Every setting, declared once with its default and help text.

Values come from environment variables (``APP_<NAME>``) or from the ``[app]`` table of
``.streamlit/secrets.toml``; the environment wins. ``load_settings`` is pure: the Streamlit layer
reads the environment and secrets once and passes them in. The README's settings table is checked
against SETTINGS by a test.
"""

from __future__ import annotations

import datetime as dt
import math
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


def _path_or_none(text: str) -> Path | None:
    return Path(text) if str(text).strip() else None


def _auth_mode(text: str) -> str:
    mode = str(text).strip().lower()
    if mode not in ("local", "oidc"):
        raise ValueError(f"auth_mode 只能是 local 或 oidc，不是 {text!r}")
    return mode


def _positive(kind: Callable[[str], float]) -> Callable[[str], Any]:
    """A parser of a limit: a finite number above zero."""

    def parse(text: str) -> Any:
        value = kind(text)
        if not (value > 0 and math.isfinite(value)):
            raise ValueError(f"上限必须大于 0，不是 {text!r}")
        return value

    return parse


SETTINGS: tuple[Setting, ...] = (
    Setting("store_backend", "local", "存储后端：local（本地工作簿，默认）或 gsheets（Google 表格）"),
    Setting("data_dir", "data", "本地存储目录：日志、工作簿和草稿都在这里", Path),
    Setting("workbook_name", "campaign.xlsx", "本地工作簿文件名（位于 data_dir 下）"),
    Setting("forms_dir", "forms", "表单定义（YAML）所在目录；修改后下一次页面运行即生效", Path),
    Setting("demo_data", "true", "首次启动且存储为空时写入演示数据", _bool),
    Setting("demo_rows", "2000", "演示数据中附件1的行数（附件3约为其 40%）", int),
    Setting("campaign_today", "", "活动时钟：看板按此日期（YYYY-MM-DD）显示；留空为当天", _date_or_none),
    Setting("auth_mode", "local", "登录方式：local（本地账号文件 + 密码，默认）或 oidc（统一身份认证，st.login）", _auth_mode),
    Setting("accounts_file", "", "账号文件（JSON，含密码哈希，不进工作簿）；留空为 data_dir/accounts.json", _path_or_none),
    Setting("session_hours", "8", "登录有效时长（小时）：在此期间刷新页面无需重新登录", float),
    Setting("lockout_attempts", "5", "连续输错密码达到此次数即锁定账号", int),
    Setting("lockout_minutes", "15", "账号锁定时长（分钟）", int),
    Setting("oidc_provider", "", "统一身份认证提供方：secrets.toml 中 [auth.<名称>] 的名称；留空用 [auth] 本身", str),
    Setting("oidc_claim", "email", "用哪个身份声明匹配账号：email 匹配账号的电子邮箱，其他（如 sub）匹配账号名", str),
    Setting("upload_max_mb", "10", "上传的 Excel 文件大小上限（MB）；.streamlit/config.toml 的 server.maxUploadSize 须不小于此值", _positive(float)),
    Setting("upload_max_unzipped_mb", "100", "上传的 .xlsx/.ods 解压后合计大小上限（MB）；超过即不读取（防压缩炸弹）", _positive(float)),
    Setting("upload_max_ratio", "100", "上传文件中大于 1 MB 的部件允许的最大压缩比（解压后/压缩后）", _positive(float)),
    Setting("upload_max_rows", "50000", "上传工作表的行数上限（含表头）；有内容的单元格超出即不读取", _positive(int)),
    Setting("upload_max_columns", "50", "上传工作表的列数上限；行数上限 × 列数上限 也是全部工作表合计的单元格上限", _positive(int)),
    Setting("upload_read_memory_mb", "1024", "读取一个上传文件的子进程可用的内存上限（MB）", _positive(float)),
    Setting("upload_read_seconds", "60", "读取一个上传文件的时间上限（秒）", _positive(float)),
)


@dataclass(frozen=True)
class Settings:
    store_backend: str
    data_dir: Path
    workbook_name: str
    forms_dir: Path
    demo_data: bool
    demo_rows: int
    campaign_today: dt.date | None
    auth_mode: str = "local"
    accounts_file: Path | None = None
    session_hours: float = 8.0
    lockout_attempts: int = 5
    lockout_minutes: int = 15
    oidc_provider: str = ""
    oidc_claim: str = "email"
    upload_max_mb: float = 10.0
    upload_max_unzipped_mb: float = 100.0
    upload_max_ratio: float = 100.0
    upload_max_rows: int = 50_000
    upload_max_columns: int = 50
    upload_read_memory_mb: float = 1024.0
    upload_read_seconds: float = 60.0

    @property
    def workbook_path(self) -> Path:
        return self.data_dir / self.workbook_name

    @property
    def accounts_path(self) -> Path:
        return self.accounts_file or self.data_dir / "accounts.json"


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
