"""python -m lib.auth: the first administrator and a password reset from the shell, password never printed."""

from __future__ import annotations

import datetime as dt

from lib.auth import __main__ as cli
from lib.auth.accounts import AccountsFile
from lib.auth.signin import authenticate


def test_add_an_admin_and_reset_its_password(tmp_path, monkeypatch, capsys):
    answers = iter(["First2020x", "First2020x", "Second2020x", "Second2020x"])
    monkeypatch.setattr(cli.getpass, "getpass", lambda prompt="": next(answers))
    assert cli.main(["add", "admin", "--role", "admin", "--data-dir", str(tmp_path)]) == 0
    assert cli.main(["password", "admin", "--data-dir", str(tmp_path)]) == 0
    assert cli.main(["list", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "admin" in out and "2020x" not in out
    assert authenticate(AccountsFile(tmp_path / "accounts.json"), "admin", "Second2020x", now=dt.datetime.now()).role == "admin"
    assert cli.main(["password", "nobody", "--data-dir", str(tmp_path)]) == 2


def test_the_shell_refuses_an_organisation_with_a_direction_override(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli.getpass, "getpass", lambda prompt="": "First2020x")
    code = cli.main(["add", "prov_x", "--role", "provider", "--org", "\u202e广州某某科技有限公司", "--data-dir", str(tmp_path)])
    assert code != 0 and "U+202E" in capsys.readouterr().err
    assert AccountsFile(tmp_path / "accounts.json").get("prov_x") is None


def test_two_different_passwords_create_nothing(tmp_path, monkeypatch, capsys):
    answers = iter(["First2020x", "Other2020x"])
    monkeypatch.setattr(cli.getpass, "getpass", lambda prompt="": next(answers))
    assert cli.main(["add", "admin", "--role", "admin", "--data-dir", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() and AccountsFile(tmp_path / "accounts.json").get("admin") is None
