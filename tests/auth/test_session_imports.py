"""Checking a session cookie runs on every page run: importing the session module must stay light —
no pandas, no store at all (its backends open workbooks and talk to Google)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_importing_the_session_module_imports_neither_pandas_nor_the_store():
    probe = "import json, sys, lib.auth.sessions; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    loaded = json.loads(done.stdout)
    assert "lib.auth.sessions" in loaded  # the probe did import it
    heavy = [m for m in loaded if m == "pandas" or m.startswith(("pandas.", "lib.store"))]
    assert heavy == []
