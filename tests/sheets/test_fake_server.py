"""The local Sheets API server behaves like Google where our backend depends on it."""

from __future__ import annotations

import gspread
import pytest
import requests
from google.auth.transport.requests import AuthorizedSession
from gspread.exceptions import APIError

from lib.store.sheets.client import SheetsConfig, build_credentials

pytestmark = pytest.mark.timeout(30)


class Rewriting(AuthorizedSession):
    """Plain gspread traffic aimed at the server: no retries, so every answer is seen as sent."""

    base = ""

    def request(self, method, url, *args, **kwargs):
        url = url.replace("https://sheets.googleapis.com", self.base)
        return super().request(method, url, *args, **kwargs)


@pytest.fixture
def book(server, sheet_key, secrets_for):
    """A gspread Spreadsheet on the server, reached through the real gspread HTTP path."""
    session = Rewriting(build_credentials(SheetsConfig.from_table(secrets_for())))
    session.base = server.url
    yield gspread.Client(None, session=session).open_by_key(sheet_key)
    session.close()


def test_raw_keeps_text_and_user_entered_parses_it(book, server, sheet_key):
    typed = [["=1+1", "007", "+86 138 0013 8000", "TRUE", "2020-09-01"]]
    book.values_update("Sheet1!A1", params={"valueInputOption": "RAW"}, body={"values": typed})
    book.values_update("Sheet1!A2", params={"valueInputOption": "USER_ENTERED"}, body={"values": typed})
    raw, entered = server.values(sheet_key, "Sheet1")
    assert raw == typed[0]
    assert entered[:4] == [2, 7, "+86 138 0013 8000", True]  # the formula ran, the zeros are gone
    assert server.values(sheet_key, "Sheet1", "FORMULA")[1][0] == "=1+1"
    got = book.values_get("Sheet1!A1:E2")
    assert got["range"] == "Sheet1!A1:E2" and got["values"][1][:2] == ["2", "7"]


def test_shapes_follow_google(book, sheet_key):
    assert book.values_get("Sheet1!A1:C") == {"range": "Sheet1!A1:C1000", "majorDimension": "ROWS"}
    reply = book.values_append("Sheet1!A:C", params={"valueInputOption": "RAW"}, body={"values": [["a"], ["b"]]})
    assert reply["updates"]["updatedRange"] == "Sheet1!A1:A2"
    reply = book.values_append("Sheet1!A:C", params={"valueInputOption": "RAW", "insertDataOption": "INSERT_ROWS"},
                               body={"values": [["c", "d"]]})
    assert reply["updates"]["updatedRange"] == "Sheet1!A3:B3" and reply["tableRange"] == "Sheet1!A1:A2"
    with pytest.raises(APIError) as err:
        book.values_update("Sheet1!A2000", params={"valueInputOption": "RAW"}, body={"values": [["x"]]})
    assert err.value.error["status"] == "INVALID_ARGUMENT" and "exceeds grid limits" in err.value.error["message"]
    added = book.batch_update({"requests": [{"addSheet": {"properties": {"title": "表 1", "hidden": True}}}]})
    assert added["replies"][0]["addSheet"]["properties"]["title"] == "表 1"
    book.values_update("'表 1'!B2", params={"valueInputOption": "RAW"}, body={"values": [["x"]]})
    assert book.values_get("'表 1'!A1:C3")["range"] == "'表 1'!A1:C3"


def test_unknown_spreadsheet_and_missing_token(server, book):
    with pytest.raises(APIError) as err:
        book.client.request("get", "https://sheets.googleapis.com/v4/spreadsheets/nope")
    assert err.value.error == {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND"}
    answer = requests.get(f"{server.url}/v4/spreadsheets/{book.id}", timeout=5)
    assert answer.status_code == 401 and answer.json()["error"]["status"] == "UNAUTHENTICATED"
    assert server.counts["token"] == 1  # the real service-account JWT flow ran once


def test_quota_answers_429_resource_exhausted(server, book):
    server.reads_per_window = 3
    server.reset_quota()
    for _ in range(3):
        book.values_get("Sheet1!A1")
    with pytest.raises(APIError) as err:
        book.values_get("Sheet1!A1")
    body = err.value.error
    assert (body["code"], body["status"]) == (429, "RESOURCE_EXHAUSTED")
    assert "Read requests per minute per user" in body["message"]
    assert body["details"][0]["reason"] == "RATE_LIMIT_EXCEEDED"
    book.values_update("Sheet1!A1", params={"valueInputOption": "RAW"}, body={"values": [["w"]]})  # writes count apart
    assert server.counts["429_read"] == 1


def test_faults_and_restart(server, book):
    server.fail_next(1, status=503)
    with pytest.raises(APIError) as err:
        book.values_get("Sheet1!A1")
    assert err.value.error["status"] == "UNAVAILABLE"
    server.fail_next(1, status=0, kind="write", after_apply=True)
    with pytest.raises(requests.ConnectionError):
        book.values_update("Sheet1!A1", params={"valueInputOption": "RAW"}, body={"values": [["lost answer"]]})
    assert book.values_get("Sheet1!A1")["values"] == [["lost answer"]]  # applied all the same
    server.stop()
    with pytest.raises(requests.ConnectionError):
        book.values_get("Sheet1!A1")
    server.start()
    assert book.values_get("Sheet1!A1")["values"] == [["lost answer"]]


def refusal(call) -> dict:
    with pytest.raises(APIError) as err:
        call()
    return err.value.error


def test_documented_limits_are_refused_with_googles_bodies(server, book, sheet_key):
    raw = {"valueInputOption": "RAW"}
    too_big = [["x" * 40_000] for _ in range(300)]  # 12 MB in cells each under the cell limit
    assert refusal(lambda: book.values_update("Sheet1!A1", params=raw, body={"values": [["甲" * 50_001]]})) == {
        "code": 400, "status": "INVALID_ARGUMENT",
        "message": "Your input contains more than the maximum of 50000 characters in a single cell."}
    book.values_update("Sheet1!A1", params=raw, body={"values": [["甲" * 50_000]]})  # exactly the limit is fine
    emoji = "\U0001F600" * 25_001  # 50,002 UTF-16 units: counted as Java counts
    assert "50000 characters" in refusal(
        lambda: book.values_update("Sheet1!A2", params=raw, body={"values": [[emoji]]}))["message"]
    assert refusal(lambda: book.values_batch_update(
        {"valueInputOption": "RAW", "data": [{"range": "Sheet1!A1", "values": [["甲" * 100]] * 10},
                                             {"range": "Sheet1!A1", "values": too_big}]})) == {
        "code": 400, "status": "INVALID_ARGUMENT", "message": "Request payload size exceeds the limit: 10485760 bytes."}
    assert server.counts["too_large"] == 1
    bad = refusal(lambda: book.values_update("Sheet1!A1", params=raw, body={"values": "X"}))
    assert bad["message"] == "Invalid value at 'data.values' (type.googleapis.com/google.protobuf.ListValue), \"X\""
    assert bad["details"][0]["fieldViolations"][0]["field"] == "data.values"
    bad = refusal(lambda: book.values_batch_update(
        {"valueInputOption": "RAW", "data": [{"range": "Sheet1!A1", "values": [["ok"]]},
                                             {"range": "Sheet1!A2", "values": ["not a row"]}]}))
    assert bad["status"] == "INVALID_ARGUMENT" and "'data[1].values[0]'" in bad["message"]
    assert refusal(lambda: book.values_update("Sheet1!A1", params=raw, body={"values": [["ok", {"a": 1}]]}))[
        "message"].startswith("Invalid values[0][1]: struct_value")
    assert server.values(sheet_key, "Sheet1")[0] == ["甲" * 50_000]  # nothing of a refused write was written
    cells = refusal(lambda: book.batch_update(
        {"requests": [{"addSheet": {"properties": {"title": "大表", "gridProperties": {"rowCount": 400_000}}}}]}))
    assert cells["message"] == ("Invalid requests[0].addSheet: This action would increase the number of cells "
                                "in the workbook above the limit of 10000000 cells.")
    assert [s.title for s in server.books[sheet_key].sheets] == ["Sheet1"]
    server.books[sheet_key].max_cells = 1000 * 26 + 26  # room for one more row
    book.values_append("Sheet1!A:Z", params={**raw, "insertDataOption": "INSERT_ROWS"}, body={"values": [["a"]]})
    assert "above the limit of 26026 cells" in refusal(lambda: book.values_append(
        "Sheet1!A:Z", params={**raw, "insertDataOption": "INSERT_ROWS"}, body={"values": [["b"]]}))["message"]


def test_repeat_cell_sets_a_number_format_and_is_refused_as_google_refuses_it(server, book, sheet_key):
    def grid():  # a batchUpdate installs new sheet objects (a refused one is rolled back whole)
        return server.books[sheet_key].sheet("Sheet1")

    book.values_update("Sheet1!A1", params={"valueInputOption": "RAW"}, body={"values": [["金额", "系数"], [3, 1.5]]})
    money = {"type": "NUMBER", "pattern": "0.00"}

    def repeat(rng, fmt=money, fields="userEnteredFormat.numberFormat"):
        return {"repeatCell": {"range": {"sheetId": grid().sheet_id, **rng},
                               "cell": {"userEnteredFormat": {"numberFormat": fmt}}, "fields": fields}}

    bad = refusal(lambda: book.batch_update({"requests": [repeat({"startRowIndex": 1, "startColumnIndex": 0,
                                                                  "endColumnIndex": 1}), repeat({"endColumnIndex": 27})]}))
    assert bad["status"] == "INVALID_ARGUMENT" and "requests[1].repeatCell" in bad["message"] and "grid" in bad["message"]
    assert grid().number_format(1, 0) is None  # the whole batch was refused
    assert "requests[0]" in refusal(lambda: book.batch_update({"requests": [repeat({}, fields="")]}))["message"]
    assert "type" in refusal(lambda: book.batch_update({"requests": [repeat({}, {"pattern": "0.00"})]}))["message"]
    book.batch_update({"requests": [repeat({"startRowIndex": 1, "startColumnIndex": 0, "endColumnIndex": 1})]})
    assert (grid().number_format(0, 0), grid().number_format(999, 0), grid().number_format(1, 1)) == (None, money, None)
    assert server.values(sheet_key, "Sheet1", "FORMATTED_VALUE") == [["金额", "系数"], ["3.00", "1.5"]]
    assert server.values(sheet_key, "Sheet1") == [["金额", "系数"], [3, 1.5]]  # the value itself is unchanged
