"""The form designer's library: drafts, checks, the impact on stored rows, publishing, history and the palette.

Definitions are YAML texts kept as versions in the store (``lib.forms.versions``); this package is what the
表单设计 page (``lib.ui.designer``) calls: ``save_draft``, ``check_draft``, ``impact``, ``publish``,
``history``, ``diff``, ``rollback``, ``withdraw``, ``add_field_yaml``. Each refusal is a coded Chinese error
(``DesignError``, the versions' ``VersionError``, the policy's ``Forbidden``) and writes nothing.
"""

from lib.forms.loader import CAMPAIGN_FILE

from .checks import DraftCheck, check_draft
from .drafts import draft_of, save_draft
from .errors import DesignError
from .impact import Change, Impact, impact
from .palette import add_field_yaml, free_key
from .publish import diff, history, publish, rollback, withdraw

__all__ = [
    "CAMPAIGN_FILE",
    "Change",
    "DesignError",
    "DraftCheck",
    "Impact",
    "add_field_yaml",
    "check_draft",
    "diff",
    "draft_of",
    "free_key",
    "history",
    "impact",
    "publish",
    "rollback",
    "save_draft",
    "withdraw",
]
