"""Every setting, declared once — its type, default, parser and Chinese help text on one line of
``Settings`` — and read from the environment or secrets.

Values come from environment variables (``APP_<NAME>``) or from the ``[app]`` table of
``.streamlit/secrets.toml``; the environment wins. ``load_settings`` is pure: the Streamlit layer
reads the environment and secrets once and passes them in. The README's settings table and
``secrets.toml.example`` are checked against SETTINGS (derived from ``Settings``) by tests.

Why not pydantic-settings: its sources read ``os.environ``, ``.env`` files and secret folders
themselves, while ours are two mappings handed in (the environment, read once, and Streamlit's parsed
secrets), and our values have rules of their own (是 is true, an empty date or path is None, limits are
finite and above zero, messages are Chinese); it would take a custom source and a validator per setting
to replace the loop below.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lib.core.errors import AppError


class SettingError(AppError, ValueError):
    """A setting whose value cannot be used; the message names the setting and where it is set."""

    code = "bad_setting"


@dataclass(frozen=True)
class Setting:
    name: str
    default: str  # as written in the environment, secrets.toml and the README
    help: str
    parse: Callable[[str], Any] = str


def _bool(text: str) -> bool:
    return str(text).strip().lower() in ("1", "true", "yes", "on", "是")


def _date_or_none(text: str) -> dt.date | None:
    if not str(text).strip():
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError("应为 YYYY-MM-DD 格式的日期，或留空") from None


def _path_or_none(text: str) -> Path | None:
    return Path(text) if str(text).strip() else None


def _auth_mode(text: str) -> str:
    mode = str(text).strip().lower()
    if mode not in ("local", "oidc"):
        raise ValueError("只能是 local 或 oidc")
    return mode


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError("应为整数") from None


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError("应为数字") from None


def _positive(kind: Callable[[str], float]) -> Callable[[str], Any]:
    """A parser of a limit: a finite number above zero."""

    def parse(text: str) -> Any:
        value = kind(text)
        if not (value > 0 and math.isfinite(value)):
            raise ValueError("上限必须是大于 0 的有限数")
        return value

    return parse


def _setting(default: str, help: str, parse: Callable[[str], Any] = str) -> Any:
    """One field of ``Settings``: the default as text (parsed for the field's own default), the help, the parser."""
    return dataclasses.field(default=parse(default), metadata={"setting": (default, help, parse)})


@dataclass(frozen=True)
class Settings:
    store_backend: str = _setting("local", "存储后端：local（本地工作簿，默认）或 gsheets（Google 表格）")
    data_dir: Path = _setting("data", "本地存储目录：日志、工作簿和草稿都在这里", Path)
    workbook_name: str = _setting("campaign.xlsx", "本地工作簿文件名（位于 data_dir 下）")
    forms_dir: Path = _setting("forms", "表单定义（YAML）所在目录；修改后下一次页面运行即生效", Path)
    demo_data: bool = _setting("true", "首次启动且存储为空时写入演示数据", _bool)
    demo_rows: int = _setting("2000", "演示数据中附件1的行数（附件3约为其 40%）", _whole)
    campaign_today: dt.date | None = _setting("", "活动时钟：看板按此日期（YYYY-MM-DD）显示；留空为当天", _date_or_none)
    auth_mode: str = _setting("local", "登录方式：local（本地账号文件 + 密码，默认）或 oidc（统一身份认证，st.login）", _auth_mode)
    accounts_file: Path | None = _setting("", "账号文件（JSON，含密码哈希，不进工作簿）；留空为 data_dir/accounts.json", _path_or_none)
    session_hours: float = _setting("8", "登录有效时长（小时）：在此期间刷新页面无需重新登录", _number)
    lockout_attempts: int = _setting("5", "连续输错密码达到此次数即锁定账号", _whole)
    lockout_minutes: int = _setting("15", "账号锁定时长（分钟）", _whole)
    oidc_provider: str = _setting("", "统一身份认证提供方：secrets.toml 中 [auth.<名称>] 的名称；留空用 [auth] 本身")
    oidc_claim: str = _setting("email", "用哪个身份声明匹配账号：email 匹配账号的电子邮箱，其他（如 sub）匹配账号名")
    upload_max_mb: float = _setting("10", "上传的 Excel 文件大小上限（MB）；.streamlit/config.toml 的 server.maxUploadSize 须不小于此值",
                                    _positive(_number))
    upload_max_unzipped_mb: float = _setting("100", "上传的 .xlsx/.ods 解压后合计大小上限（MB）；超过即不读取（防压缩炸弹）",
                                             _positive(_number))
    upload_max_ratio: float = _setting("100", "上传文件中大于 1 MB 的部件允许的最大压缩比（解压后/压缩后）", _positive(_number))
    upload_max_rows: int = _setting("50000", "上传工作表的行数上限（含表头）；有内容的单元格超出即不读取", _positive(_whole))
    upload_max_columns: int = _setting("50", "上传工作表的列数上限；行数上限 × 列数上限 也是全部工作表合计的单元格上限", _positive(_whole))
    upload_read_memory_mb: float = _setting("1024", "读取一个上传文件的子进程可用的内存上限（MB）", _positive(_number))
    upload_read_seconds: float = _setting("60", "读取一个上传文件的时间上限（秒）", _positive(_number))

    @property
    def workbook_path(self) -> Path:
        return self.data_dir / self.workbook_name

    @property
    def accounts_path(self) -> Path:
        return self.accounts_file or self.data_dir / "accounts.json"


#: Every setting in declaration order (the README's table and secrets.toml.example list them).
SETTINGS: tuple[Setting, ...] = tuple(Setting(f.name, *f.metadata["setting"]) for f in dataclasses.fields(Settings))


def load_settings(environ: Mapping[str, str], secrets: Mapping[str, Any] | None = None) -> Settings:
    """Resolve every setting: ``APP_<NAME>`` in ``environ``, then ``secrets['app'][name]``, then default.
    A value that cannot be used raises SettingError (a ValueError) naming the setting.

    >>> load_settings({"APP_DEMO_ROWS": "300"}).demo_rows
    300
    >>> load_settings({"APP_LOCKOUT_MINUTES": "十五"})
    Traceback (most recent call last):
    ...
    lib.settings.SettingError: 设置 lockout_minutes（环境变量 APP_LOCKOUT_MINUTES）的值 '十五' 无效：应为整数。
    """
    table = dict((secrets or {}).get("app", {}) or {})
    values = {}
    for s in SETTINGS:
        variable = f"APP_{s.name.upper()}"
        raw = environ.get(variable, table.get(s.name, s.default))
        if isinstance(raw, bool):  # TOML's true/false, already a value
            values[s.name] = raw
            continue
        try:
            values[s.name] = s.parse(str(raw))
        except ValueError as exc:
            where = f"环境变量 {variable}" if variable in environ else "secrets.toml 的 [app] 表"
            raise SettingError(f"设置 {s.name}（{where}）的值 {str(raw)[:100]!r} 无效：{exc}。") from None
    return Settings(**values)
