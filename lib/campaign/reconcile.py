"""不得漏报: match each provider's 附件1 rows to the subsidy register by voucher number.

Pure functions on DataFrames. ``reconcile`` takes the 附件1 rows that count as reported (the caller
chooses: statuses, as-of date) and the register entries in force, and lists every discrepancy:

* 台账有、未报送 — a register entry no provider reported (the omission the notice forbids);
* 已报送、台账无 — a reported voucher the register does not know;
* 金额不符 / 地市不符 / 企业信用代码不符 / 服务商不符 — the voucher matches, a fact does not;
* 重复报送 — the same voucher reported again (the first filing is the one compared).

>>> register = pd.DataFrame({"voucher_no": ["V-000001", "V-000002"], "client_name": ["甲", "乙"],
...     "client_credit_code": ["C1", "C2"], "provider_name": ["服务商A", "服务商A"], "city": ["广州", "佛山"],
...     "subsidy_amount": [10.0, 5.0]})
>>> att1 = pd.DataFrame({"voucher_no": ["v-000001 ", "V-000009"], "client_name": ["甲", "丙"],
...     "client_credit_code": ["C1", "C9"], "provider_name": ["服务商A", "服务商A"], "client_city": ["广州", "广州"],
...     "subsidy_amount": [12.0, 1.0], "_id": ["r1", "r2"], "_owner": ["a", "a"],
...     "_created_at": pd.to_datetime(["2020-09-10", "2020-09-11"])})
>>> reconcile(att1, register)[["问题类型", "服务券编号", "地市"]].values.tolist()
[['台账有、未报送', 'V-000002', '佛山'], ['已报送、台账无', 'V-000009', '广州'], ['金额不符', 'V-000001', '广州']]
"""

from __future__ import annotations

import pandas as pd

NOT_REPORTED = "台账有、未报送"
NOT_IN_REGISTER = "已报送、台账无"
AMOUNT = "金额不符"
CITY = "地市不符"
FIRM = "企业信用代码不符"
PROVIDER = "服务商不符"
DUPLICATE = "重复报送"
ISSUE_TYPES = (NOT_REPORTED, NOT_IN_REGISTER, AMOUNT, CITY, FIRM, PROVIDER, DUPLICATE)

#: Amounts are 万元 with two decimals; anything closer than half a cent is the same amount.
AMOUNT_TOLERANCE = 0.005

ISSUE_COLUMNS = [
    "问题类型", "服务券编号", "服务商", "地市", "企业名称", "台账奖补金额", "填报奖补金额", "台账地市", "填报地市",
    "台账信用代码", "填报信用代码", "台账服务商", "填报服务商", "记录编号", "填报账号",
]


def _plain(value) -> str:
    if value is None or value != value:  # None or NaN
        return ""
    return "".join(str(value).split())


def _already_clean(values: pd.Series, dirty: str) -> pd.Series | None:
    """``values`` as plain str objects when no value matches the regex ``dirty``, else None.

    Rows from the store are already normalised by the form and import validators, so one
    vectorised check usually replaces a Python loop over every value.
    """
    text = values.fillna("").astype("str")
    try:
        import pyarrow as pa
        import pyarrow.compute as pc

        found = pc.any(pc.match_substring_regex(pa.array(text), dirty)).as_py()
    except Exception:  # no pyarrow, or a storage it cannot take: check in Python
        return None
    return None if found else text.astype(object)


def _normalized(values: pd.Series, dirty: str, fn) -> pd.Series:
    clean = _already_clean(values, dirty)
    if clean is not None:
        return clean
    codes, uniques = pd.factorize(values.fillna(""))
    fixed = [fn(u) for u in uniques]
    return pd.Series([fixed[c] for c in codes], index=values.index, dtype=object)


def normalize_code(values: pd.Series) -> pd.Series:
    """Voucher numbers and credit codes compared as upper case without spaces (object dtype:
    pandas' ``isin`` on Arrow strings converts the other side element by element).

    >>> normalize_code(pd.Series([" syq-1 ", None])).tolist()
    ['SYQ-1', '']
    """
    return _normalized(values, r"[a-z\s]", lambda v: _plain(v).upper())


def normalize_name(values: pd.Series) -> pd.Series:
    """Organisation names compared without spaces and with full-width brackets.

    >>> normalize_name(pd.Series(["广州 云智(集团)有限公司", None])).tolist()
    ['广州云智（集团）有限公司', '']
    """
    return _normalized(values, r"[\s()]", normalize_name_text)


def member(values: pd.Series, pool) -> pd.Series:
    """``values.isin(pool)`` for large pools (pandas' isin on Arrow strings converts the pool
    element by element).

    >>> member(pd.Series(["a", "b"]), pd.Series(["b"])).tolist()
    [False, True]
    """
    known = set(pool.tolist() if hasattr(pool, "tolist") else pool)
    return pd.Series([v in known for v in values.tolist()], index=values.index, dtype=bool)


def normalize_name_text(text) -> str:
    return _plain(text).replace("(", "（").replace(")", "）")


REPORTED_COLUMNS = ["voucher", "provider", "city", "code", "name", "amount", "row_id", "owner", "status", "at", "duplicate"]


def reported_frame(att1: pd.DataFrame) -> pd.DataFrame:
    """附件1 rows normalised for matching, earliest filing first, with a ``duplicate`` flag (a later
    filing of a voucher already filed). ``provider`` is the row's provider name, else the filer's org."""
    if att1 is None or att1.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in REPORTED_COLUMNS})
    blank = pd.Series("", index=att1.index, dtype=object)
    provider = att1["provider_name"] if "provider_name" in att1 else pd.Series(None, index=att1.index, dtype=object)
    provider = provider.where(provider.notna() & (provider != ""), att1["_org"] if "_org" in att1 else blank)
    rep = pd.DataFrame(
        {
            "voucher": normalize_code(att1["voucher_no"]),
            "provider": normalize_name(provider),
            "city": att1["client_city"].fillna(""),
            "code": normalize_code(att1["client_credit_code"]),
            "name": att1["client_name"].fillna(""),
            "amount": pd.to_numeric(att1["subsidy_amount"], errors="coerce"),
            "row_id": att1["_id"],
            "owner": att1["_owner"] if "_owner" in att1 else blank,
            "status": att1["_status"] if "_status" in att1 else blank,
            "at": pd.to_datetime(att1["_created_at"]) if "_created_at" in att1 else pd.NaT,
        }
    )
    rep = rep.sort_values(["at", "row_id"], kind="stable")
    rep["duplicate"] = rep["voucher"].duplicated()
    return rep


REGISTER_COLUMNS = ["voucher", "r_provider", "r_city", "r_code", "r_name", "r_amount"]


def register_frame(register: pd.DataFrame | None) -> pd.DataFrame:
    """Register entries normalised for matching (``r_`` prefixed facts)."""
    if register is None or register.empty:
        return pd.DataFrame({c: pd.Series(dtype=float if c == "r_amount" else object) for c in REGISTER_COLUMNS})
    return pd.DataFrame(
        {
            "voucher": normalize_code(register["voucher_no"]),
            "r_provider": normalize_name(register["provider_name"]),
            "r_city": register["city"].fillna(""),
            "r_code": normalize_code(register["client_credit_code"]),
            "r_name": register["client_name"].fillna(""),
            "r_amount": pd.to_numeric(register["subsidy_amount"], errors="coerce"),
        }
    )


def reconcile(att1: pd.DataFrame, register: pd.DataFrame) -> pd.DataFrame:
    """Every discrepancy between reported 附件1 rows and the register, one row per issue.

    ``服务商`` and ``地市`` are the register's when the voucher is in the register (the register is
    the authority), the filer's otherwise. Columns: ISSUE_COLUMNS.
    """
    return match(reported_frame(att1), register_frame(register))


def match(rep: pd.DataFrame, reg: pd.DataFrame) -> pd.DataFrame:
    """``reconcile`` on frames already normalised by reported_frame / register_frame."""
    first = rep[~rep["duplicate"].astype(bool)].drop(columns=["status", "at"])
    both = reg.merge(first, on="voucher", how="outer", indicator=True)
    parts = []

    def issue(kind: str, rows: pd.DataFrame) -> None:
        if rows.empty:
            return
        in_reg = rows["_merge"] != "right_only" if "_merge" in rows else pd.Series(False, index=rows.index)
        parts.append(
            pd.DataFrame(
                {
                    "问题类型": kind,
                    "服务券编号": rows["voucher"],
                    "服务商": rows["r_provider"].where(in_reg, rows["provider"]),
                    "地市": rows["r_city"].where(in_reg, rows["city"]),
                    "企业名称": rows["r_name"].where(in_reg, rows["name"]),
                    "台账奖补金额": rows["r_amount"],
                    "填报奖补金额": rows["amount"],
                    "台账地市": rows["r_city"],
                    "填报地市": rows["city"],
                    "台账信用代码": rows["r_code"],
                    "填报信用代码": rows["code"],
                    "台账服务商": rows["r_provider"],
                    "填报服务商": rows["provider"],
                    "记录编号": rows["row_id"],
                    "填报账号": rows["owner"],
                }
            )
        )

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
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in ISSUE_COLUMNS})
    out = pd.concat(parts, ignore_index=True)[ISSUE_COLUMNS]
    for col in ("服务商", "地市", "企业名称", "台账地市", "填报地市", "台账信用代码", "填报信用代码", "台账服务商", "填报服务商", "记录编号", "填报账号"):
        out[col] = out[col].fillna("")
    return out


def summarize(issues: pd.DataFrame, by: str) -> pd.DataFrame:
    """Issue counts per ``by`` (服务商 or 地市), one column per issue type and 合计, most issues first.

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
