"""An app's rules for workbook edits as the store sees them (lib.store.local.external.EditCheck), without any
form: a module, not conftest, so the background writer process can unpickle it by name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lib.core.records import Record
from lib.store.local.external import EditRuling


@dataclass(frozen=True)
class SiteCheckRules:
    """Rows in ``locked_status`` never change; 检查人数 is the system's; a 备注 is stored stripped and
    brings 项目名称 with it (as a calculated field would)."""

    locked_status: str = "已通过"

    def __call__(self, current: Record, edited: dict[str, Any]) -> EditRuling:
        if current.status == self.locked_status:
            return EditRuling(locked=f"状态为「{current.status}」")
        values = {k: v for k, v in edited.items() if k != "count"}
        refused = {"count": "检查人数由系统填写"} if "count" in edited else {}
        if "remark" in values:
            values["remark"] = str(values["remark"]).strip()
            values["project"] = f"{current.values.get('project')}（有备注）"
        return EditRuling(values=values, refused=refused)
