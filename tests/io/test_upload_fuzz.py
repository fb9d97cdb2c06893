"""Generated hostile workbooks — huge dimensions and far cells, odd cell types, hostile numbers,
control characters in cells and sheet names, broken references — fed to the upload parsers.

What must hold for every one: the bounds check answers or refuses with a catalogue code (never
another exception); what it lets through is read within the limits, so the reading subprocess never
needs its memory or time limit and never finds a sheet larger than the check measured; and the
register parser turns whatever is read into rows or coded problems.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lib.campaign.register.kinds import MESSAGES as REGISTER_MESSAGES
from lib.campaign.register.kinds import register_kinds
from lib.campaign.register.upload import parse_register
from lib.forms.loader import load_catalog
from lib.office.excel import read_upload
from lib.xlsx.bounds import MESSAGES, ExcelReadError, WorkbookLimits, check_workbook, column_letters
from tests.io.xlsx_parts import Sheet, ods, xlsx

LIMITS = WorkbookLimits(max_bytes=1 << 20, max_unzipped_bytes=4 << 20, max_ratio=100, max_rows=60, max_columns=12,
                        memory_bytes=512 << 20, seconds=60)
VOUCHERS = register_kinds(load_catalog(Path(__file__).resolve().parents[2] / "forms").campaign)["vouchers"]
HEADERS = [c.header for c in VOUCHERS.columns]
#: Refusals that mean the check let through something it should have measured.
MISSED = {"sheet_too_large", "read_memory", "read_timeout"}

in_range_rows, in_range_columns = st.integers(1, 60), st.integers(1, 12)
rows = st.one_of(in_range_rows, in_range_rows, st.sampled_from([0, 59, 60, 61, 80, 1_048_576, 1_048_577, 10**12]))
columns = st.one_of(in_range_columns, in_range_columns, st.sampled_from([11, 12, 13, 702, 16_384, 16_385]))
numbers = st.sampled_from(["1E+30", "9" * 5000, "NaN", "inf", "-1e400", "1e1000000", "0x10", "", "-0", "12.5", "2019",
                           "1,5", "1e15", "-3"])
texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
#: a valid register row (its voucher number made unique per row); the fuzz spoils a few of its cells
GOOD = ["SYQ-2019-4401-00001", "广州甲公司", "91440101MA59ABCDEM", "乙服务商", "广州", "2019", "12.5", "已兑现"]
in_range_refs = st.tuples(in_range_rows, in_range_columns).map(lambda rc: f"{column_letters(rc[1])}{rc[0]}")
refs = st.one_of(
    in_range_refs, in_range_refs, in_range_refs,
    st.tuples(rows, columns).map(lambda rc: f"{column_letters(rc[1])}{rc[0]}"),
    st.sampled_from(["ZZZZ1", "a1", "$A$1", "A0", "1A", "", "XFD1048576", "XFE1"]),
    st.none(),  # no r: the reader places it after the previous cell
)
kinds = st.sampled_from([None, None, None, "n", "s", "b", "e", "str", "inlineStr", "d", "zz"])
any_values = st.one_of(numbers, texts)
register_kinds = st.one_of(*[st.none()] * 15, kinds)
dimensions = st.one_of(st.none(), st.none(), st.just("A1:H8"), st.tuples(rows, columns).map(lambda rc: f"A1:{column_letters(rc[1])}{rc[0]}"),
                       st.sampled_from(["A1:XFD1048576", "garbage", "A1"]))
sheet_names = st.one_of(st.just("清单"), st.just("Sheet1"), st.just("兑现清单"), texts)


def _escape(text: str, raw: bool) -> str:
    """XML-escaped text; ``raw`` leaves control characters in (XML 1.0 cannot hold them), else they
    are written as Excel writes them (_x0007_)."""
    out = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return out if raw else "".join(c if c >= " " or c in "\t\n\r" else f"_x{ord(c):04X}_" for c in out)


@st.composite
def cells(draw, ref=refs, values=any_values, kind=kinds) -> str:
    ref, kind, value = draw(ref), draw(kind), draw(values)
    text = _escape(value, draw(st.integers(0, 99)) == 0)
    r = f' r="{ref}"' if ref is not None else ""
    if kind == "inlineStr" or (kind is None and not _is_number(value)):
        return f'<c{r} t="inlineStr"><is><t>{text}</t></is></c>'
    t = f' t="{kind}"' if kind else ""
    return f'<c{r} s="1"/>' if draw(st.integers(0, 29)) == 0 else f"<c{r}{t}><v>{text}</v></c>"


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


@st.composite
def sheet_bodies(draw) -> str:
    """Often a register (header and rows in A–H), then rows of anything anywhere."""
    out = []
    if draw(st.booleans()):
        header = "".join(f'<c r="{column_letters(i)}1" t="inlineStr"><is><t>{h}</t></is></c>' for i, h in enumerate(HEADERS, 1))
        out.append(f'<row r="1">{header}</row>')
        for r in range(2, draw(st.integers(2, 8))):
            values = [f"SYQ-2019-4401-{r:05d}", *GOOD[1:]]
            for c in draw(st.lists(st.integers(0, len(HEADERS) - 1), max_size=2)):  # a few hostile cells
                values[c] = draw(st.one_of(numbers, texts))
            out.append(f'<row r="{r}">' + "".join(
                draw(cells(st.just(f"{column_letters(c)}{r}"), st.just(v), register_kinds)) for c, v in enumerate(values, 1)) + "</row>")
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2]))):
        r = draw(st.one_of(st.none(), rows))
        attr = f' r="{r}"' if r is not None else ""
        out.append(f"<row{attr}>{''.join(draw(st.lists(cells(), max_size=6)))}</row>")
    return "".join(out)


@st.composite
def workbooks(draw) -> bytes:
    sheets = [Sheet(draw(sheet_names), draw(sheet_bodies()), draw(dimensions)) for _ in range(draw(st.sampled_from([1, 1, 1, 2, 3])))]
    shared = draw(st.lists(texts, max_size=4))
    raw = draw(st.integers(0, 9)) == 0
    sst = '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    return xlsx(sheets, shared_xml=sst + "".join(f"<si><t>{_escape(t, raw)}</t></si>" for t in shared) + "</sst>")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(workbooks())
def test_the_check_answers_or_refuses_with_a_code(data):
    try:
        check_workbook(data, LIMITS)
    except ExcelReadError as refused:
        assert refused.code in MESSAGES


def read_within_limits(data: bytes):
    """The sheets the check lets through, each within the limits; None for a coded refusal (never one
    the check should have made before reading: MISSED)."""
    try:
        sheets = read_upload(data, LIMITS)
    except ExcelReadError as refused:
        assert refused.code in MESSAGES and refused.code not in MISSED, str(refused)
        return None
    for sheet in sheets:
        assert len(sheet.rows) <= LIMITS.max_rows and all(len(r) <= LIMITS.max_columns for r in sheet.rows)
    return sheets


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(workbooks())
def test_what_the_check_lets_through_is_read_within_the_limits_and_parsed(data):
    sheets = read_within_limits(data)
    if sheets is None:
        return
    parsed = parse_register(VOUCHERS, sheets)
    assert all(p.code in REGISTER_MESSAGES for p in parsed.problems)
    assert parsed.ok or parsed.problems


repeats = st.one_of(st.none(), st.none(), st.none(), st.integers(1, 5), st.integers(1, 70), st.sampled_from([1023, 1_048_576, 10**10]))


@st.composite
def ods_cells(draw) -> str:
    rep = draw(repeats)
    attr = f' table:number-columns-repeated="{rep}"' if rep is not None else ""
    shape = draw(st.sampled_from(["empty", "float", "string", "p-only"]))
    if shape == "empty":
        return f"<table:table-cell{attr}/>"
    if shape == "float":
        return f'<table:table-cell{attr} office:value-type="float" office:value="{draw(numbers) or 1}"/>'
    text = _escape(draw(texts), False)
    kind = ' office:value-type="string"' if shape == "string" else ""
    return f"<table:table-cell{attr}{kind}><text:p>{text}</text:p></table:table-cell>"


@st.composite
def ods_books(draw) -> bytes:
    tables = {}
    for i in range(draw(st.integers(1, 2))):
        rows = []
        for _ in range(draw(st.integers(0, 5))):
            rep = draw(repeats)
            attr = f' table:number-rows-repeated="{rep}"' if rep is not None else ""
            rows.append(f"<table:table-row{attr}>{''.join(draw(st.lists(ods_cells(), max_size=4)))}</table:table-row>")
        tables[draw(st.one_of(st.just(f"表{i}"), st.just(f"Sheet{i}"), texts))] = "".join(rows)
    return ods(tables)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(ods_books())
def test_an_ods_the_check_lets_through_is_read_within_the_limits(data):
    sheets = read_within_limits(data)
    if sheets is None:
        return
