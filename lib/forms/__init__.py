"""Forms as data: YAML definitions compiled in stages into specs, checked answers and sheet columns."""

from .errors import FormDefinitionError, FormProblem
from .loader import FormCatalog, load_catalog, parse_campaign, parse_form
from .spec import CampaignSpec, FieldSpec, FormSpec, SectionSpec
from .validate import Outcome, check_answers

__all__ = [
    "CampaignSpec",
    "FieldSpec",
    "FormCatalog",
    "FormDefinitionError",
    "FormProblem",
    "FormSpec",
    "Outcome",
    "SectionSpec",
    "check_answers",
    "load_catalog",
    "parse_campaign",
    "parse_form",
]
