"""Every setting, declared once — its type, default, parser and Chinese help text on one line of
``Settings`` — and read from the environment or secrets.

Values come from environment variables (``APP_<NAME>``) or from the ``[app]`` table of
``.streamlit/secrets.toml``; the environment wins. ``load_settings`` is pure: the Streamlit layer
reads the environment and secrets once and passes them in. The README's settings table and
``secrets.toml.example`` are checked against SETTINGS (derived from ``Settings``) by tests.

Why not pydantic-settings: its sources read ``os.environ``, ``.env`` files and secret folders
themselves, while ours are two mappings handed in (the environment, read once, and Streamlit's parsed
secrets), and our values have rules of their own (是 is true, an empty date or path is None, numbers
lie in finite ranges, paths hold no control character, messages are Chinese); it would take a custom
source and a validator per setting to replace the loop below.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lib.core.errors import AppError
from lib.core.text import hidden_character


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


def _plain(text: str) -> str:
    """Text that is copied into paths, file names and messages: no control character, line break,
    direction mark or invisible character (a data_dir of "a\\x01b" once made a folder of that name)."""
    hidden = hidden_character(text)
    if hidden:
        raise ValueError(f"含有不可见或控制字符 {hidden}")
    return text


def _word(text: str) -> str:
    """A name chosen from a list (the store backend): compared without case or surrounding blanks.
    Which names exist is the factory's to say (it names this setting when it knows none)."""
    word = _plain(str(text)).strip().lower()
    if not word:
        raise ValueError("不能为空")
    return word


def _path(text: str) -> Path:
    if not str(text).strip():
        raise ValueError("不能为空")
    return Path(_plain(text))


def _path_or_none(text: str) -> Path | None:
    return _path(text) if str(text).strip() else None


def _file_name(text: str) -> str:
    """The workbook's file name: one plain ``.xlsx`` name inside data_dir — not a path (its lock file
    ``.<name>.lock`` sits beside it) and not hidden (the store's own files start with a dot)."""
    name = _plain(text)
    if Path(name).name != name or "/" in name or "\\" in name or name.startswith(".") or not name.lower().endswith(".xlsx"):
        raise ValueError("应为以 .xlsx 结尾的文件名，不含目录，不以“.”开头")
    return name


def _date_or_none(text: str) -> dt.date | None:
    if not str(text).strip():
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError("应为 YYYY-MM-DD 格式的日期，或留空") from None


def _auth_mode(text: str) -> str:
    mode = str(text).strip().lower()
    if mode not in ("local", "oidc"):
        raise ValueError("只能是 local 或 oidc")
    return mode


def _forms_source(text: str) -> str:
    source = str(text).strip().lower()
    if source not in ("store", "files"):
        raise ValueError("只能是 store 或 files")
    return source


def _claim(text: str) -> str:
    claim = _plain(str(text)).strip()
    if not claim:
        raise ValueError("不能为空")
    return claim


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


def _between(kind: Callable[[str], Any], low: float, high: float, *, above_low: bool = False) -> Callable[[str], Any]:
    """A parser of a count, a duration or a limit: a number in a finite range that the code using it can
    hold (a timedelta, a lockout that locks, a demo that can be built; Excel's sheet is 1,048,576 rows
    × 16,384 columns; a session beyond 30 days or a lockout beyond a week is a typo). Compared, never
    converted: a 400-digit whole number is refused, not an OverflowError; NaN fails every comparison."""

    def parse(text: str) -> Any:
        value = kind(text)
        if not ((low < value) if above_low else (low <= value)) or not (value <= high):
            floor = f"大于 {low}" if above_low else f"不小于 {low}"
            raise ValueError(f"应为{floor}、不大于 {high} 的{'整数' if kind is _whole else '数'}")
        return value

    return parse


def _setting(default: str, help: str, parse: Callable[[str], Any] = str) -> Any:
    """One field of ``Settings``: the default as text (parsed for the field's own default), the help, the parser."""
    return dataclasses.field(default=parse(default), metadata={"setting": (default, help, parse)})


@dataclass(frozen=True)
class Settings:
    store_backend: str = _setting("local", "存储后端：local（本地工作簿，默认）或 gsheets（Google 表格）", _word)
    data_dir: Path = _setting("data", "本地存储目录：日志、工作簿和草稿都在这里", _path)
    workbook_name: str = _setting("campaign.xlsx", "本地工作簿文件名（位于 data_dir 下，以 .xlsx 结尾）", _file_name)
    forms_dir: Path = _setting("forms", "表单定义（YAML）所在目录；forms_source 为 store 时它是首次启动导入数据存储的种子，"
                               "之后改动的文件发布为新版本；修改后下一次页面运行即生效", _path)
    demo_data: bool = _setting("true", "首次启动且存储为空时写入演示数据", _bool)
    demo_rows: int = _setting("2000", "演示数据中附件1的行数（附件3约为其 40%；0 至 100000）", _between(_whole, 0, 100_000))
    demo_password_rounds: int = _setting("10", "演示账号密码哈希（bcrypt）的强度（4 至 12）：越低首次启动写入演示账号越快；"
                                         "只用于演示账号，正式账号不受影响", _between(_whole, 4, 12))
    campaign_today: dt.date | None = _setting("", "活动时钟：看板按此日期（YYYY-MM-DD）显示，表单规则中的 today() 也取此日期；留空为当天", _date_or_none)
    auth_mode: str = _setting("local", "登录方式：local（本地账号文件 + 密码，默认）或 oidc（统一身份认证，st.login）", _auth_mode)
    accounts_file: Path | None = _setting("", "账号文件（JSON，含密码哈希，不进工作簿）；留空为 data_dir/accounts.json", _path_or_none)
    session_hours: float = _setting("8", "登录有效时长（小时，大于 0、不大于 720）：在此期间刷新页面无需重新登录",
                                    _between(_number, 0, 720, above_low=True))
    lockout_attempts: int = _setting("5", "连续输错密码达到此次数即锁定账号（1 至 100）", _between(_whole, 1, 100))
    lockout_minutes: int = _setting("15", "账号锁定时长（分钟，1 至 10080）", _between(_whole, 1, 10_080))
    oidc_provider: str = _setting("", "统一身份认证提供方：secrets.toml 中 [auth.<名称>] 的名称；留空用 [auth] 本身", _plain)
    oidc_claim: str = _setting("email", "用哪个身份声明匹配账号：email 匹配账号的电子邮箱，其他（如 sub）匹配账号名", _claim)
    upload_max_mb: float = _setting("10", "上传的 Excel 文件大小上限（MB，不大于 1024）；.streamlit/config.toml 的 server.maxUploadSize 须不小于此值",
                                    _between(_number, 0, 1024, above_low=True))
    upload_max_unzipped_mb: float = _setting("100", "上传的 .xlsx/.ods 解压后合计大小上限（MB，不大于 10240）；超过即不读取（防压缩炸弹）",
                                             _between(_number, 0, 10_240, above_low=True))
    upload_max_ratio: float = _setting("100", "上传文件中大于 1 MB 的部件允许的最大压缩比（解压后/压缩后，不大于 10000）",
                                       _between(_number, 0, 10_000, above_low=True))
    upload_max_rows: int = _setting("50000", "上传工作表的行数上限（含表头，1 至 1048576）；有内容的单元格超出即不读取",
                                    _between(_whole, 1, 1_048_576))
    upload_max_columns: int = _setting("50", "上传工作表的列数上限（1 至 16384）；行数上限 × 列数上限 也是全部工作表合计的单元格上限",
                                       _between(_whole, 1, 16_384))
    upload_read_memory_mb: float = _setting("1024", "读取一个上传文件的子进程可用的内存上限（MB，不大于 65536）",
                                            _between(_number, 0, 65_536, above_low=True))
    upload_read_seconds: float = _setting("60", "读取一个上传文件的时间上限（秒，不大于 3600）", _between(_number, 0, 3_600, above_low=True))
    forms_source: str = _setting("store", "表单定义从哪里读取：store（数据存储中的已发布版本，默认；forms_dir 为种子，文件改动发布为新版本）"
                                 "或 files（只读 forms_dir，不在存储中保留版本）", _forms_source)

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
    table = (secrets or {}).get("app", {}) or {}
    if not isinstance(table, Mapping):
        raise SettingError("secrets.toml 的 [app] 应为一个表（[app] 下每行一个设置），不是单个值。")
    values = {}
    for s in SETTINGS:
        variable = f"APP_{s.name.upper()}"
        where = f"环境变量 {variable}" if variable in environ else "secrets.toml 的 [app] 表"
        raw = environ.get(variable, table.get(s.name, s.default))
        if isinstance(raw, bool) and s.parse is _bool:  # TOML's true/false, already a value
            values[s.name] = raw
            continue
        try:
            # TOML gives typed values: a number or a date is read as its text; true/false of a
            # setting that is not yes/no, a list or a table is no value of it (true is not 1 row).
            if isinstance(raw, bool) or not isinstance(raw, (str, int, float, dt.date)):
                raise ValueError("不能是 true/false" if isinstance(raw, bool) else "应为单个文本、数字或日期")
            values[s.name] = s.parse(str(raw))
        except ValueError as exc:
            raise SettingError(f"设置 {s.name}（{where}）的值 {str(raw)[:100]!r} 无效：{exc}。") from None
    return Settings(**values)


def read_secrets(path: Path) -> dict[str, Any]:
    """A secrets.toml as Streamlit reads it, for a command run outside the app (which reads the settings
    from it and the environment); {} when there is no such file, AppError ``secrets_unreadable`` when it
    cannot be read."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise AppError(f"{path} 无法读取：{exc}", code="secrets_unreadable") from None
