"""A second app server for the form-version tests: a catalog on the store's versions of the same
spreadsheet (its own checkout of the forms and its own data folder), driven by JSON commands on stdin, one
JSON answer per line on stdout.

    python tests/sheets/forms_peer.py SECRETS_JSON DATA_DIR FORMS_DIR

Commands: ``{"op": "label", "form", "key"}`` reads the store anew, refreshes the catalog and answers the
field's label and the served version of ``<form>.yaml``; ``{"op": "publish", "file", "text", "based_on"}``
publishes a designer's version and answers its number, or the error code.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parents[1])]

from lib.core.records import Actor  # noqa: E402
from lib.forms import load_catalog, versions  # noqa: E402
from lib.forms.store_source import StoreSource  # noqa: E402
from lib.store.sheets.store import open_sheets_store  # noqa: E402

PROVINCE = Actor("province_peer", "province", "省厅", "")


def main() -> None:
    data_dir = Path(sys.argv[2])
    store = open_sheets_store(json.loads(sys.argv[1]), data_dir / "store")
    catalog = load_catalog(StoreSource(store, Path(sys.argv[3]), data_dir))
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd["op"] == "label":
            store.refresh()
            catalog.refresh()
            form = catalog.form(cmd["form"])
            answer = {"label": next(f.label for f in form.all_fields() if f.key == cmd["key"]),
                      "version": versions.number(versions.latest(store, f"{cmd['form']}.yaml"))}
        elif cmd["op"] == "publish":
            try:
                row = versions.publish_version(store, PROVINCE, cmd["file"], cmd["text"], form_id=cmd["file"][:-5],
                                               based_on=cmd["based_on"], origin="designer")
                answer = {"version": versions.number(row)}
            except versions.VersionError as err:
                answer = {"error": err.code}
        else:
            break
        print(json.dumps(answer, ensure_ascii=False), flush=True)
    store.close()


if __name__ == "__main__":
    main()
