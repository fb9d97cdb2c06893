"""The reported rows of each form as the board's detail tables, with Chinese column names."""

from __future__ import annotations

import pandas as pd

from lib.campaign.board.units import column
from lib.campaign.register.reconcile import normalize_name

USAGE_STATES = ("正常使用", "使用率较低", "闲置", "停用")
CONCLUSIONS = ("合格", "基本合格", "不合格", "未检查")
SPENDING_BINS = ((0, 20), (20, 40), (40, 60), (60, 80), (80, 100.0001))
SPENDING_LABELS = ("0–20%", "20–40%", "40–60%", "60–80%", "80–100%")
EXEMPT = "免填（按月报送）"
NO_RATIO = "未填"

#: The 附件1 columns the detail table reads (only these are taken from the snapshot).
ATT1_COLUMNS = ("_id", "_status", "client_city", "client_name", "voucher_no", "project_name", "subsidy_amount",
                "usage_status", "monthly_active_users", "reason", "_owner", "_created_at")


def att1_rows(rep: pd.DataFrame, provider: pd.Series, first: pd.Series) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "记录编号": rep["_id"], "记录状态": rep["_status"], "服务商": provider,
            "地市": column(rep, "client_city").fillna(""), "企业名称": column(rep, "client_name"),
            "服务券编号": column(rep, "voucher_no"), "项目名称": column(rep, "project_name"),
            "奖补金额（万元）": column(rep, "subsidy_amount"), "使用状态": column(rep, "usage_status").fillna("未填"),
            "月活跃用户数": column(rep, "monthly_active_users"), "原因说明": column(rep, "reason"),
            "填报账号": column(rep, "_owner", ""), "填报时间": rep["_created_at"], "首次报送": first,
        }
    ).reset_index(drop=True)


def att3_rows(rep: pd.DataFrame, first: pd.Series) -> pd.DataFrame:
    method = column(rep, "check_method")
    conclusion = column(rep, "conclusion").where(method != "未检查", "未检查").fillna("未填")
    return pd.DataFrame(
        {
            "记录编号": rep["_id"], "记录状态": rep["_status"],
            "地市": column(rep, "city").where(column(rep, "city").notna(), column(rep, "_city", "")),
            "企业名称": column(rep, "client_name"), "服务商": column(rep, "provider_name"),
            "服务券编号": column(rep, "voucher_no"), "检查方式": method, "检查结论": conclusion,
            "使用状态": column(rep, "usage_status"), "企业满意度": column(rep, "satisfaction"),
            "投诉举报": column(rep, "complaint"), "存在问题": column(rep, "problems"),
            "填报账号": column(rep, "_owner", ""), "填报时间": rep["_created_at"], "首次报送": first,
        }
    ).reset_index(drop=True)


def spending_bin(ratio: pd.Series, exempt: pd.Series) -> pd.Series:
    """The spending-ratio band of each report; exempt reports and blanks get their own band.

    >>> spending_bin(pd.Series([0.0, 45.5, 100.0, None, None]), pd.Series([False, False, False, True, None])).tolist()
    ['0–20%', '40–60%', '80–100%', '免填（按月报送）', '未填']
    """
    ratio = pd.to_numeric(ratio, errors="coerce")
    edges = [lo for lo, _ in SPENDING_BINS] + [SPENDING_BINS[-1][1]]
    bands = pd.cut(ratio.clip(upper=100), bins=edges, labels=list(SPENDING_LABELS), right=False).astype(object)
    bands = bands.where(ratio.notna(), NO_RATIO)
    return bands.where(~(exempt.fillna(False).astype(bool)), EXEMPT)


def att2_rows(rep: pd.DataFrame) -> pd.DataFrame:
    lead = column(rep, "lead_unit_name").where(column(rep, "lead_unit_name").notna(), column(rep, "_org", ""))
    ratio = pd.to_numeric(column(rep, "spending_ratio"), errors="coerce")
    exempt = column(rep, "monthly_report_exempt")
    return pd.DataFrame(
        {
            "记录编号": rep["_id"], "记录状态": rep["_status"], "项目名称": column(rep, "project_name"),
            "牵头单位": normalize_name(lead), "地市": column(rep, "city").fillna(""),
            "支持渠道": column(rep, "programme"), "建设状态": column(rep, "project_status"),
            "总体完成进度（%）": column(rep, "percent_complete"), "资金支出比例（%）": ratio.round(1),
            "支出区间": spending_bin(ratio, exempt), "填报账号": column(rep, "_owner", ""), "填报时间": rep["_created_at"],
        }
    ).reset_index(drop=True)
