"""Shared fixtures for the form tests: the shipped catalogue and valid answers to start from."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lib.forms import FormCatalog, FormSpec, Outcome, check_answers, load_catalog
from lib.forms.types import credit_code_check_char
from lib.store.factory import open_store

ROOT = Path(__file__).resolve().parents[2]
FORMS_DIR = ROOT / "forms"


def make_code(first17: str) -> str:
    """A valid 统一社会信用代码 from its first 17 characters."""
    return first17 + credit_code_check_char(first17)


@pytest.fixture(scope="session")
def catalog() -> FormCatalog:
    """The shipped forms, loaded once; a test that edits forms must use its own tmp_path copy."""
    loaded = load_catalog(FORMS_DIR)
    assert loaded.problems() == {}, loaded.problems()
    return loaded


@pytest.fixture(scope="session")
def cities(catalog) -> tuple[str, ...]:
    return catalog.campaign.cities


@pytest.fixture(scope="session")
def check(catalog, cities) -> Callable[..., Outcome]:
    """``check(form_id, answers, draft=False)`` runs the shipped form's rules."""

    def run(form_id: str, answers: dict[str, Any], *, draft: bool = False) -> Outcome:
        form: FormSpec = catalog.form(form_id)
        return check_answers(form, answers, cities=cities, draft=draft)

    return run


@pytest.fixture
def att1_answers() -> Callable[..., dict[str, Any]]:
    """A factory of valid raw Attachment 1 answers (as a filler types them); keywords override."""

    def make(**overrides: Any) -> dict[str, Any]:
        answers = {
            "provider_name": "广州云智信息科技有限公司",
            "provider_credit_code": make_code("91440106MA59C1234"),
            "subsidy_year": "2019",
            "client_city": "佛山",
            "client_district": "南海区",
            "client_name": "佛山市南海区宏达五金制品有限公司",
            "client_credit_code": make_code("91440605MA4UABCD1"),
            "voucher_no": "SYQ-2019-4406-00123",
            "project_name": "宏达五金ERP系统上云项目",
            "project_type": "业务系统上云",
            "business_area": "经营管理",
            "implementation_content": "部署云端ERP系统，覆盖采购、销售、库存和财务管理。",
            "contract_date": "2019-04-12",
            "contract_amount": "20.00",
            "paid_amount": "19.50",
            "subsidy_amount": "3.00",
            "acceptance_date": "2019-07-01",
            "usage_status": "正常使用",
            "monthly_active_users": "35",
            "followup_date": "2020-09-10",
            "followup_services": ["培训辅导", "项目维保"],
            "contacts": [{"contact_name": "陈伟", "contact_title": "信息部经理", "contact_phone": "13800138000"}],
        }
        answers.update(overrides)
        return answers

    return make


@pytest.fixture
def att2_basic() -> Callable[..., dict[str, Any]]:
    """Valid raw Attachment 2 answers with only the basic facts and the contact filled."""

    def make(**overrides: Any) -> dict[str, Any]:
        answers = {
            "project_name": "陶瓷行业工业互联网平台建设项目",
            "lead_unit_name": "佛山市恒昌陶瓷集团有限公司",
            "lead_unit_credit_code": make_code("91440604MA4W12345"),
            "city": "佛山",
            "programme": "省级标杆示范",
            "project_year": "2019",
            "project_status": "在建",
            "planned_start": dt.date(2019, 6, 1),
            "planned_end": dt.date(2021, 5, 31),
            "total_investment": "3000",
            "public_funds": "500",
            "own_funds_planned": "2500",
            "contact_name": "李静",
            "contact_phone": "0757-82781234",
        }
        answers.update(overrides)
        return answers

    return make


@pytest.fixture
def att2_sections() -> dict[str, Any]:
    """Answers for sections 一..六 of Attachment 2."""
    return {
        "construction_done": "平台主体开发完成，接入企业 120 家。",
        "percent_complete": "65",
        "key_indicators": "接入设备目标 5000 台，已完成 3200 台。",
        "public_spent": "300",
        "own_spent": "1200",
        "separate_account": "是",
        "problems_found": "无",
        "rectification_done": "无",
        "difficulties": "受疫情影响部分设备到货延期。",
        "next_steps": "2021 年一季度完成剩余建设内容并申请验收。",
        "expected_acceptance_date": "2021-06-30",
    }


@pytest.fixture
def att3_answers() -> Callable[..., dict[str, Any]]:
    """A factory of valid raw Attachment 3 answers for a project checked on site and found 合格."""

    def make(**overrides: Any) -> dict[str, Any]:
        answers = {
            "city": "佛山",
            "client_name": "佛山市南海区宏达五金制品有限公司",
            "client_credit_code": make_code("91440605MA4UABCD1"),
            "provider_name": "广州云智信息科技有限公司",
            "project_name": "宏达五金ERP系统上云项目",
            "subsidy_year": "2019",
            "subsidy_amount": "3.00",
            "check_method": "实地检查",
            "check_date": "2019-11-20",
            "checkers": "陈伟、李静",
            "content_matches": "是",
            "usage_status": "正常使用",
            "satisfaction": "满意",
            "conclusion": "合格",
            "complaint": "否",
        }
        answers.update(overrides)
        return answers

    return make


@pytest.fixture
def forms(tmp_path) -> Path:
    """A copy of the shipped forms/ to change (the seed of a store's form versions)."""
    folder = tmp_path / "forms"
    shutil.copytree(ROOT / "forms", folder)
    return folder


@pytest.fixture
def store(tmp_path):
    """A local store in the test's folder (a module may declare its own)."""
    opened = open_store("local", data_dir=tmp_path / "data", background=False)
    yield opened
    opened.close()
