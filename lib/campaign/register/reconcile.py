"""不得漏报: match each provider's filed projects to the voucher register by voucher number.

Pure functions on DataFrames keyed by meaning. ``reconcile`` takes the rows of the campaign's
projects form that count as reported (the caller chooses: statuses, as-of date), as a meaning frame
(``lib.campaign.bound.meaning_frame(snapshot, bindings.of("projects"))``: ``voucher``, ``provider``,
``city``, ``firm_code``, ``firm``, ``subsidy`` and the system columns, ``_filed_at`` the filing time),
and the voucher register in force (``store.current_register``: the same meanings), and lists every
discrepancy:

* 台账有、未报送 — a register entry no provider reported (the omission the notice forbids);
* 已报送、台账无 — a reported voucher the register does not know;
* 金额不符 / 地市不符 / 企业信用代码不符 — the voucher matches, a fact does not;
* 服务券属其他单位 — the register assigns the voucher to another provider: a conflict for the
  province to resolve. Matching stays inside the filer's organisation (``bind``): such a filing
  matches no register entry, so the filer never sees the entry's facts and the provider the
  register names keeps its own progress;
* 重复报送 — the same voucher reported again by the same provider (the first filing is compared).

>>> register = pd.DataFrame({"voucher": ["V-000001", "V-000002"], "firm": ["甲", "乙"],
...     "firm_code": ["C1", "C2"], "provider": ["供方A", "供方A"], "city": ["城一", "城二"],
...     "subsidy": [10.0, 5.0]})
>>> filed = pd.DataFrame({"voucher": ["v-000001 ", "V-000009"], "firm": ["甲", "丙"],
...     "firm_code": ["C1", "C9"], "provider": ["供方A", "供方A"], "city": ["城一", "城一"],
...     "subsidy": [12.0, 1.0], "_id": ["r1", "r2"], "_owner": ["a", "a"],
...     "_filed_at": pd.to_datetime(["2021-09-10", "2021-09-11"])})
>>> reconcile(filed, register)[["问题类型", "服务券编号", "地市"]].values.tolist()
[['台账有、未报送', 'V-000002', '城二'], ['已报送、台账无', 'V-000009', '城一'], ['金额不符', 'V-000001', '城一']]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lib.core.text import comparable

NOT_REPORTED = "台账有、未报送"
NOT_IN_REGISTER = "已报送、台账无"
AMOUNT = "金额不符"
CITY = "地市不符"
FIRM = "企业信用代码不符"
PROVIDER = "服务券属其他单位"
DUPLICATE = "重复报送"
ISSUE_TYPES = (NOT_REPORTED, NOT_IN_REGISTER, AMOUNT, CITY, FIRM, PROVIDER, DUPLICATE)

#: The columns naming the unit that files the projects form (the register's, the filing's, the one
#: an issue is about). The board shows them under the campaign's name of that role (``issue_headers``).
UNIT, REGISTER_UNIT, FILED_UNIT = "单位", "台账单位", "填报单位"


def issue_headers(filer: str) -> dict[str, str]:
    """The issue columns renamed for display, ``filer`` being the name of the role that files the projects form.

    >>> issue_headers("承办方")[FILED_UNIT]
    '填报承办方'
    """
    return {UNIT: filer, REGISTER_UNIT: "台账" + filer, FILED_UNIT: "填报" + filer}


#: Amounts are 万元 with two decimals; anything closer than half a cent is the same amount.
AMOUNT_TOLERANCE = 0.005

ISSUE_COLUMNS = [
    "问题类型", "服务券编号", UNIT, "地市", "企业名称", "台账奖补金额", "填报奖补金额", "台账地市", "填报地市",
    "台账信用代码", "填报信用代码", REGISTER_UNIT, FILED_UNIT, "记录编号", "填报账号",
]
#: The issue columns holding a register entry's own facts (hidden from a provider it does not name).
REGISTER_FACTS = ["台账奖补金额", "台账地市", "台账信用代码", REGISTER_UNIT]


def _plain(value) -> str:
    if value is None or value != value:  # None or NaN
        return ""
    return "".join(str(value).split())


def _already_clean(values: pd.Series, dirty: str) -> pd.Series | None:
    """``values`` as plain str objects when no value matches the regex ``dirty``, else None.

    Rows from the store are already normalised by the form and import validators, so one
    vectorised check usually replaces a Python loop over every value.
    """
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
    except Exception:  # no pyarrow: check in Python
        return None
    if isinstance(values.dtype, pd.StringDtype):
        # Text already: the Arrow data is searched as it is (a blank matches nothing) and blanks
        # become "" on the way out, without an intermediate filled copy.
        try:
            found = pc.any(pc.match_substring_regex(pa.array(values), dirty)).as_py()
        except Exception:
            found = True  # let the general path below decide
        if not found:
            return pd.Series(values.to_numpy(dtype=object, na_value=""), index=values.index, dtype=object)
    text = values.fillna("").astype("str")
    try:
        found = pc.any(pc.match_substring_regex(pa.array(text), dirty)).as_py()
    except Exception:  # a storage pyarrow cannot take: check in Python
        return None
    return None if found else text.astype(object)


def _normalized(values: pd.Series, dirty: str, fn) -> pd.Series:
    clean = _already_clean(values, dirty)
    if clean is not None:
        return clean
    codes, uniques = pd.factorize(values.fillna(""))
    fixed = [fn(u) for u in uniques]
    return pd.Series([fixed[c] for c in codes], index=values.index, dtype=object)


#: Dashes a keyboard or a pasted document puts where a code has a hyphen (NFKC leaves these apart).
_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2e3a\u30fc", "-"))


def code_text(value) -> str:
    """One voucher number or credit code as compared: ``lib.core.text.comparable`` (width-folded, no
    blanks or invisible characters), every dash a hyphen, upper case.

    >>> {code_text(v) for v in ("ｖ－０００００２", "V\u2013000002\u200b", " v-000002 ")}
    {'V-000002'}
    """
    return comparable(_plain(value)).translate(_DASHES).upper()


def normalize_code(values: pd.Series) -> pd.Series:
    """Voucher numbers and credit codes as compared (``code_text``, vectorised; object dtype: pandas'
    ``isin`` on Arrow strings converts the other side element by element).

    >>> normalize_code(pd.Series([" syq-1 ", None, "Ｖ－０１"])).tolist()
    ['SYQ-1', '', 'V-01']
    """
    # Codes of ASCII capitals, digits and hyphens are their own normal form; anything else goes through the rule.
    return _normalized(values, r"[^A-Z0-9-]", code_text)


def normalize_name(values: pd.Series) -> pd.Series:
    """Organisation names as compared (``normalize_name_text``, vectorised).

    >>> normalize_name(pd.Series(["广州 云智(集团)有限公司", "广州云智（集团）有限公司\u200b", None])).tolist()
    ['广州云智（集团）有限公司', '广州云智（集团）有限公司', '']
    """
    # Names made only of CJK ideographs, ASCII digits, capitals and full-width brackets are their own
    # normal form; anything else goes through the rule.
    return _normalized(values, r"[^\x{4e00}-\x{9fff}0-9A-Z（）]", normalize_name_text)


def member(values: pd.Series, pool) -> pd.Series:
    """``values.isin(pool)`` for large pools (pandas' isin on Arrow strings converts the pool
    element by element).

    >>> member(pd.Series(["a", "b"]), pd.Series(["b"])).tolist()
    [False, True]
    """
    known = set(pool.tolist() if hasattr(pool, "tolist") else pool)
    return pd.Series([v in known for v in values.tolist()], index=values.index, dtype=bool)


def normalize_name_text(text) -> str:
    """An organisation name as compared and shown on the boards: ``lib.core.text.comparable`` (the one rule
    for "same name": width, case, blanks, invisible characters), written upper case with full-width
    brackets so it reads as a Chinese name. Both are one-to-one on comparable's text: two names are
    the same here exactly when ``comparable`` says so (the account's org, the register's provider, a row).

    >>> normalize_name_text("广州ＡＢＣ云科技(有限)公司") == normalize_name_text(" 广州abc云科技（有限）公司\u200b")
    True
    >>> normalize_name_text("广州abc云科技（有限）公司"), normalize_name_text(None)
    ('广州ABC云科技（有限）公司', '')
    """
    if text is None or text != text:  # None or NaN
        return ""
    return comparable(str(text)).upper().replace("(", "（").replace(")", "）")


REPORTED_COLUMNS = ["voucher", "provider", "city", "code", "name", "amount", "row_id", "owner", "status", "at", "duplicate"]


def reported_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Filed projects (a meaning frame of the projects form) normalised for matching, earliest filing
    (``_filed_at``) first, with a ``duplicate`` flag (a later filing of a voucher already filed).
    ``provider`` is the filing account's organisation (``_org``; only providers file the projects
    form), else the provider name typed in the row: what a provider may match is bound to who it is,
    not to what it typed."""
    if frame is None or frame.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in REPORTED_COLUMNS})
    blank = pd.Series("", index=frame.index, dtype=object)
    typed = frame["provider"] if "provider" in frame else pd.Series(None, index=frame.index, dtype=object)
    org = frame["_org"] if "_org" in frame else pd.Series(None, index=frame.index, dtype=object)
    provider = org.where(org.notna() & (org != ""), typed.where(typed.notna(), blank))
    rep = pd.DataFrame(
        {
            "voucher": normalize_code(frame["voucher"]),
            "provider": normalize_name(provider),
            "city": frame["city"].fillna(""),
            "code": normalize_code(frame["firm_code"]),
            "name": frame["firm"].fillna(""),
            "amount": pd.to_numeric(frame["subsidy"], errors="coerce"),
            "row_id": frame["_id"],
            "owner": frame["_owner"] if "_owner" in frame else blank,
            "status": frame["_status"] if "_status" in frame else blank,
            "at": pd.to_datetime(frame["_filed_at"]) if "_filed_at" in frame else pd.NaT,
        }
    )
    rep = rep.sort_values(["at", "row_id"], kind="stable")
    rep["duplicate"] = rep["voucher"].duplicated()
    return rep


REGISTER_COLUMNS = ["voucher", "r_provider", "r_city", "r_code", "r_name", "r_amount"]


def register_frame(register: pd.DataFrame | None) -> pd.DataFrame:
    """Voucher register entries (keyed by meaning, as ``store.current_register`` gives them)
    normalised for matching (``r_`` prefixed facts)."""
    if register is None or register.empty:
        return pd.DataFrame({c: pd.Series(dtype=float if c == "r_amount" else object) for c in REGISTER_COLUMNS})
    return pd.DataFrame(
        {
            "voucher": normalize_code(register["voucher"]),
            "r_provider": normalize_name(register["provider"]),
            "r_city": register["city"].fillna(""),
            "r_code": normalize_code(register["firm_code"]),
            "r_name": register["firm"].fillna(""),
            "r_amount": pd.to_numeric(register["subsidy"], errors="coerce"),
        }
    )


#: Joins a voucher and the filer's organisation in the matching key of a conflicting filing.
KEY_SEPARATOR = "\x1f"


def bind(rep: pd.DataFrame, reg: pd.DataFrame) -> pd.DataFrame:
    """``rep`` (reported_frame) bound to the filer's organisation, with ``conflict``: the register
    lists the voucher, but not under the filer's organisation; and ``key``: what a filing is matched
    and counted once by: the voucher, or for a conflict the voucher and the filer's organisation
    (joined by KEY_SEPARATOR), which no register entry has. ``duplicate`` is recomputed per key.

    >>> reg = register_frame(pd.DataFrame({"voucher": ["V1"], "firm": ["甲"], "firm_code": ["C1"],
    ...     "provider": ["供方A"], "city": ["城一"], "subsidy": [1.0]}))
    >>> rep = pd.DataFrame({"voucher": ["V1", "V1", "V2"], "provider": ["供方A", "供方B", "供方B"]})
    >>> bind(rep.assign(duplicate=False), reg)[["conflict", "duplicate"]].values.tolist()
    [[False, False], [True, False], [False, False]]
    """
    vouchers = rep["voucher"].to_numpy(dtype=object)
    providers = rep["provider"].to_numpy(dtype=object)
    listed = pd.Index(reg["voucher"].to_numpy(dtype=object), dtype=object)
    if listed.is_unique:  # one hash lookup per filing, then one comparison
        at = listed.get_indexer(vouchers)
        assigned = reg["r_provider"].to_numpy(dtype=object).take(np.maximum(at, 0)) if len(listed) else np.full(len(at), "", dtype=object)
        conflict = (at >= 0) & (assigned != providers)
    else:  # a voucher listed under several providers: each of them may match it
        pairs = reg["voucher"].astype(object) + KEY_SEPARATOR + reg["r_provider"].astype(object)
        conflict = member(rep["voucher"], reg["voucher"]).to_numpy(dtype=bool) & ~member(
            pd.Series(vouchers + KEY_SEPARATOR + providers, dtype=object), pairs).to_numpy(dtype=bool)
    if not conflict.any():  # the usual case: the keys are the vouchers, duplicates as they were
        return rep.assign(conflict=conflict, key=vouchers)
    key = vouchers.copy()
    key[conflict] = vouchers[conflict] + KEY_SEPARATOR + providers[conflict]
    out = rep.assign(conflict=conflict, key=key)
    out["duplicate"] = out["key"].duplicated()
    return out


def reconcile(filed: pd.DataFrame, register: pd.DataFrame) -> pd.DataFrame:
    """Every discrepancy between filed projects (a meaning frame) and the voucher register, one row
    per issue.

    ``单位`` (the provider) and ``地市`` are the register's when the filing matched its register entry (the
    register is the authority), the filer's otherwise. Columns: ISSUE_COLUMNS.
    """
    reg = register_frame(register)
    return match(bind(reported_frame(filed), reg), reg)


def _issue_frame(kind: str, rows, in_reg: pd.Series) -> pd.DataFrame:
    """One issue row per row of ``rows`` (the columns of a register / filings join, as a frame or a
    dict of equally indexed Series); ``in_reg``: the
    voucher is in the register, so the register's provider, city and firm name are shown."""
    return pd.DataFrame(
        {
            "问题类型": kind,
            "服务券编号": rows["voucher"],
            UNIT: rows["r_provider"].where(in_reg, rows["provider"]),
            "地市": rows["r_city"].where(in_reg, rows["city"]),
            "企业名称": rows["r_name"].where(in_reg, rows["name"]),
            "台账奖补金额": rows["r_amount"],
            "填报奖补金额": rows["amount"],
            "台账地市": rows["r_city"],
            "填报地市": rows["city"],
            "台账信用代码": rows["r_code"],
            "填报信用代码": rows["code"],
            REGISTER_UNIT: rows["r_provider"],
            FILED_UNIT: rows["provider"],
            "记录编号": rows["row_id"],
            "填报账号": rows["owner"],
        }
    )


def _issues_out(parts: list[pd.DataFrame]) -> pd.DataFrame:
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in ISSUE_COLUMNS})
    out = pd.concat(parts, ignore_index=True)[ISSUE_COLUMNS]
    for col in (UNIT, "地市", "企业名称", "台账地市", "填报地市", "台账信用代码", "填报信用代码", REGISTER_UNIT, FILED_UNIT, "记录编号", "填报账号"):
        out[col] = out[col].fillna("")
    return out


def _key_order(keys: np.ndarray) -> np.ndarray:
    """Positions that sort ``keys`` (str) as a pandas outer merge orders its keys (stable)."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pc

        return pc.sort_indices(pa.array(keys, type=pa.string())).to_numpy()
    except Exception:  # not all str, or no pyarrow
        return np.argsort(keys, kind="stable")


def take_or_blank(values: pd.Series, pos: np.ndarray) -> pd.Series:
    """``values`` at positions ``pos`` with -1 as a blank: the rows of one side of a join found by
    hash lookups, with the dtype rules of a merge's fill (an object column stays object rather than
    being inferred as text again). The board's units join filings to register entries the same way.

    >>> take_or_blank(pd.Series(["a", "b"], dtype=object), np.array([1, -1])).tolist()
    ['b', nan]
    """
    array = values.array if isinstance(values.dtype, pd.api.extensions.ExtensionDtype) else values.to_numpy()
    taken = pd.api.extensions.take(array, pos, allow_fill=True)
    return pd.Series(taken, dtype=taken.dtype)


def _side(frame: pd.DataFrame, pos: np.ndarray, columns) -> dict[str, pd.Series]:
    """``frame``'s ``columns`` at positions ``pos`` (-1: blank, as a merge fills an unmatched row)."""
    return {c: take_or_blank(frame[c], pos) for c in columns}


def _differs(left: pd.Series, li: np.ndarray, right: pd.Series, ri: np.ndarray) -> np.ndarray:
    """``left[li] != right[ri]`` element by element (a blank differs from everything, as in pandas)."""
    return (take_or_blank(left, li) != take_or_blank(right, ri)).to_numpy(dtype=bool)


def match(rep: pd.DataFrame, reg: pd.DataFrame) -> pd.DataFrame:
    """``reconcile`` on frames already normalised by reported_frame / register_frame (and ``bind``:
    without a ``conflict`` column every filing may match any register entry).

    A conflicting filing is compared with nothing: it gives one 服务券属其他单位 issue (a later
    one of the same filer: 重复报送) showing the filer's facts, the register's in the 台账 columns.
    """
    conflict = rep["conflict"].to_numpy(dtype=bool) if "conflict" in rep else np.zeros(len(rep), dtype=bool)
    plain = rep.drop(columns=[c for c in ("conflict", "key") if c in rep])  # the issues carry neither
    if not conflict.any():
        return _match_fast(plain, reg)
    bound = _match_fast(plain[~conflict], reg)
    others = plain[conflict].drop(columns=["status", "at"]).reset_index(drop=True)
    vouchers = pd.Index(reg["voucher"].to_numpy(dtype=object), dtype=object)
    firsts = np.flatnonzero(~vouchers.duplicated())  # a voucher listed twice: its first entry is shown
    at = firsts[vouchers.take(firsts).get_indexer(pd.Index(others["voucher"].to_numpy(dtype=object), dtype=object))]
    rows = pd.DataFrame({**{c: others[c] for c in others.columns}, **_side(reg, at, [c for c in reg.columns if c != "voucher"])})
    parts = [bound]
    for kind, these in ((PROVIDER, ~rows["duplicate"].astype(bool)), (DUPLICATE, rows["duplicate"].astype(bool))):
        if these.any():
            parts.append(_issue_frame(kind, rows[these].reset_index(drop=True), pd.Series(False, index=range(int(these.sum())))))
    return _issues_out(parts)


def _match_fast(rep: pd.DataFrame, reg: pd.DataFrame) -> pd.DataFrame:
    """``match`` of filings that may match any register entry.

    The same rows as an outer merge of the register with the first filings on the voucher (each
    kind in voucher order), from hash lookups and one sort of each side instead of the merge.
    """
    dup = rep["duplicate"].astype(bool).to_numpy()
    fpos = np.flatnonzero(~dup)
    reg_index = pd.Index(reg["voucher"].to_numpy(dtype=object), dtype=object)
    first_index = pd.Index(rep["voucher"].to_numpy(dtype=object)[fpos], dtype=object)
    if not len(reg_index) or not len(first_index) or not reg_index.is_unique or not first_index.is_unique:
        return _match_merge(rep, reg)
    first = rep.take(fpos).drop(columns=["status", "at"])
    r_to_f = first_index.get_indexer(reg_index)  # the first filing of each register entry, or -1
    f_in_reg = reg_index.get_indexer(first_index) >= 0
    reg_cols = [c for c in reg.columns if c != "voucher"]
    rep_cols = [c for c in first.columns if c not in ("voucher", "duplicate")]
    parts = []

    def issue(kind: str, ri: np.ndarray, fi: np.ndarray, keys_from: pd.DataFrame, kpos: np.ndarray) -> None:
        if len(ri):
            rows = {"voucher": take_or_blank(keys_from["voucher"], kpos), **_side(reg, ri, reg_cols), **_side(first, fi, rep_cols)}
            parts.append(_issue_frame(kind, rows, pd.Series(ri >= 0)))

    rorder = _key_order(reg_index.to_numpy())
    forder = _key_order(first_index.to_numpy())
    missing = rorder[r_to_f[rorder] < 0]
    issue(NOT_REPORTED, missing, np.full(len(missing), -1), reg, missing)
    unknown = forder[~f_in_reg[forder]]
    issue(NOT_IN_REGISTER, np.full(len(unknown), -1), unknown, first, unknown)
    ri = rorder[r_to_f[rorder] >= 0]
    fi = r_to_f[ri]
    r_amount = pd.to_numeric(reg["r_amount"]).to_numpy(dtype=float, na_value=np.nan)[ri]
    amount = pd.to_numeric(first["amount"]).to_numpy(dtype=float, na_value=np.nan)[fi]
    for kind, differs in (
        (AMOUNT, np.abs(r_amount - amount) > AMOUNT_TOLERANCE),
        (CITY, _differs(reg["r_city"], ri, first["city"], fi)),
        (FIRM, _differs(reg["r_code"], ri, first["code"], fi)),
        (PROVIDER, _differs(reg["r_provider"], ri, first["provider"], fi)),
    ):
        issue(kind, ri[differs], fi[differs], reg, ri[differs])
    dpos = np.flatnonzero(dup)
    if len(dpos):
        dups = rep.take(dpos).drop(columns=["status", "at"]).reset_index(drop=True)
        di = reg_index.get_indexer(pd.Index(dups["voucher"].to_numpy(dtype=object), dtype=object))
        rows = {**{c: dups[c] for c in dups.columns}, **_side(reg, di, reg_cols)}
        parts.append(_issue_frame(DUPLICATE, rows, rows["r_provider"].notna()))
    return _issues_out(parts)


def _match_merge(rep: pd.DataFrame, reg: pd.DataFrame) -> pd.DataFrame:
    """``match`` by an outer merge: empty sides and repeated register vouchers (one issue per pair)."""
    first = rep[~rep["duplicate"].astype(bool)].drop(columns=["status", "at"])
    both = reg.merge(first, on="voucher", how="outer", indicator=True)
    parts = []

    def issue(kind: str, rows: pd.DataFrame) -> None:
        if rows.empty:
            return
        in_reg = rows["_merge"] != "right_only" if "_merge" in rows else pd.Series(False, index=rows.index)
        parts.append(_issue_frame(kind, rows, in_reg))

    issue(NOT_REPORTED, both[both["_merge"] == "left_only"])
    issue(NOT_IN_REGISTER, both[both["_merge"] == "right_only"])
    matched = both[both["_merge"] == "both"]
    issue(AMOUNT, matched[(matched["r_amount"] - matched["amount"]).abs() > AMOUNT_TOLERANCE])
    issue(CITY, matched[matched["r_city"] != matched["city"]])
    issue(FIRM, matched[matched["r_code"] != matched["code"]])
    issue(PROVIDER, matched[matched["r_provider"] != matched["provider"]])
    dups = rep[rep["duplicate"].astype(bool)].drop(columns=["status", "at"]).merge(reg, on="voucher", how="left")
    dups["_merge"] = dups["r_provider"].notna().map({True: "both", False: "right_only"})
    issue(DUPLICATE, dups)
    return _issues_out(parts)


def summarize(issues: pd.DataFrame, by: str) -> pd.DataFrame:
    """Issue counts per ``by`` (单位 or 地市), one column per issue type and 合计, most issues first.

    >>> issues = pd.DataFrame({"问题类型": [AMOUNT, AMOUNT, CITY], "地市": ["广州", "广州", "佛山"]})
    >>> summarize(issues, "地市")[["地市", AMOUNT, CITY, "合计"]].values.tolist()
    [['广州', 2, 0, 2], ['佛山', 0, 1, 1]]
    """
    if issues.empty:
        return pd.DataFrame(columns=[by, *ISSUE_TYPES, "合计"])
    table = issues.groupby([by, "问题类型"]).size().unstack(fill_value=0).reindex(columns=list(ISSUE_TYPES), fill_value=0)
    table.columns.name = None
    table.index.name = by
    table["合计"] = table.sum(axis=1)
    return table.sort_values("合计", ascending=False, kind="stable").reset_index()
