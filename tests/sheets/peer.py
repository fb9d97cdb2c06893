"""A second app server for the two-process tests: a store on the same spreadsheet, driven by
JSON commands on stdin, one JSON answer per line on stdout.

    python tests/sheets/peer.py SECRETS_JSON DATA_DIR
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parents[1])]

from lib.store.base import ConflictError  # noqa: E402
from lib.store.sheets.store import open_sheets_store  # noqa: E402
from tests.store.store_cases import CITY, SPEC  # noqa: E402


def main() -> None:
    store = open_sheets_store(json.loads(sys.argv[1]), Path(sys.argv[2]))
    store.ensure_sheet(SPEC)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        try:
            if cmd["op"] == "append":
                rec = store.append("site_check", cmd["values"], actor=CITY, status="已提交")
                answer = {"id": rec.id, "rev": rec.rev}
            elif cmd["op"] == "update":
                rec = store.update("site_check", cmd["id"], base_rev=cmd["base_rev"], actor=CITY, values=cmd["values"])
                answer = {"id": rec.id, "rev": rec.rev}
            elif cmd["op"] == "get":
                store.refresh()
                rec = store.get("site_check", cmd["id"])
                answer = {"rev": rec.rev, "values": rec.values}
            else:
                break
        except ConflictError as err:
            answer = {"error": "conflict", "message": str(err)}
        print(json.dumps(answer, ensure_ascii=False), flush=True)
    store.close()


if __name__ == "__main__":
    main()
