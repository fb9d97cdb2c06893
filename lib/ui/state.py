"""Every session_state key the app uses, in one place, by area (sign-in, fill, my submissions, review,
accounts, board, register, audit, sampling, file fields). A widget's ``key`` is a session_state key too, so widget keys
live here as well (tests/ui/test_state_keys.py finds a key spelled anywhere else). Store ids and plain
values, never objects. Each area's keys start with its own prefix (``fill:``, ``mine:``, ``review:``
...), so no two areas can collide and an area can drop all of its keys at once.
"""

from __future__ import annotations

# Sign-in
SESSION = "auth:session"  # the signed-in session's token (lib.auth.sessions); the account is read from it each run
SIGN_IN_NOTICE = "auth:notice"  # a message for the sign-in page (session expired, signed out, SSO refused)
CLEAR_COOKIE = "auth:clear_cookie"  # after sign-out: tell the browser to drop the session cookie
SSO_LOGGED = "auth:sso_logged"  # the single sign-on of this session is in the audit trail already
SIGN_IN_FORM = "signin:form"
SIGN_IN_ACCOUNT = "signin:account"  # widget keys of the sign-in form
SIGN_IN_PASSWORD = "signin:password"
SIGN_OUT = "auth:sign_out"  # the sidebar's 退出登录 button

FLASH = "flash"  # a message to show once on the next run: (kind, text)


def go_key(target: str) -> str:
    """A button that opens another page (lib.ui.nav.go_button); ``target`` tells the buttons of one page apart."""
    return f"go:{target}"


# The fill page
FILL_PREFIX = "fill:"  # every key of the fill page starts with it
FILL_ACCOUNT = "fill:account"  # the account the fill page's keys belong to


def field_key(form_id: str, key: str) -> str:
    """The widget key of a top-level field of a form on the fill page. Under ``field:``, so a field
    named like one of the page's own keys (``receipt``, ``token`` ...) cannot take its place."""
    return f"fill:{form_id}:field:{key}"


def table_data_key(form_id: str, key: str) -> str:
    """Prefix of the widget keys of a table's rows: ``<prefix>:<row>:<sub-field key>``."""
    return f"{field_key(form_id, key)}:rows"


def table_cell_key(form_id: str, key: str, row: int, sub_key: str) -> str:
    """The widget of sub-field ``sub_key`` in row ``row`` (from 0) of a table on the fill page."""
    return f"{table_data_key(form_id, key)}:{row}:{sub_key}"


def table_delete_key(form_id: str, key: str, row: int) -> str:
    """The 删除 button of row ``row`` of a table (never a cell's key: a row number is no ``delete``)."""
    return f"{table_data_key(form_id, key)}:delete:{row}"


def table_add_key(form_id: str, key: str) -> str:
    """The 添加一行 button of a table."""
    return f"{table_data_key(form_id, key)}:add"


def table_count_key(form_id: str, key: str) -> str:
    """How many rows a table shows on the fill page."""
    return f"{field_key(form_id, key)}:count"


def fill_button_key(form_id: str, action: str) -> str:
    """A button of the fill page's receipt and notes (``next``, ``copy``, ``mine``, ``print``, ``offer_open``, ``offer_next``)."""
    return f"fill:{form_id}:button:{action}"


def editing_key(form_id: str) -> str:
    """{"id", "rev", "status"} of the row being edited on the fill page, or absent for a new row."""
    return f"fill:{form_id}:editing"


def outcome_key(form_id: str) -> str:
    """The outcome of the last action on the fill page (lib.ui.fill_outcome.Outcome as a dict),
    shown at the buttons until the next action."""
    return f"fill:{form_id}:outcome"


def receipt_key(form_id: str) -> str:
    """The receipt of the last successful submission ({'id', 'rev', 'status', 'time', 'pending'}),
    shown instead of the form until the filler chooses what comes next."""
    return f"fill:{form_id}:receipt"


def submitted_key(form_id: str) -> str:
    """Ids of the rows this session submitted: the address alone (the browser's back button) does not
    open them again (lib.ui.fill); one opened deliberately is shown with a note saying so."""
    return f"fill:{form_id}:submitted"


def token_key(form_id: str) -> str:
    """A counter that changes when the form on screen stops being the one a button was drawn for
    (after a submission): a second click of 提交 carries the old value and is ignored."""
    return f"fill:{form_id}:token"


def baseline_key(form_id: str) -> str:
    """A fingerprint of the answers as last loaded or saved: different answers are unsaved input."""
    return f"fill:{form_id}:baseline"


def load_warnings_key(form_id: str) -> str:
    """{field key: message} for stored values the widgets cannot show (shown blank, with the message)."""
    return f"fill:{form_id}:load_warnings"


def open_key(form_id: str) -> str:
    """The row id a deliberate act asked the fill page to open (我的填报's 打开修改): the address
    alone does not open a submitted row (lib.ui.fill)."""
    return f"fill:{form_id}:open"


def offer_key(form_id: str) -> str:
    """{'id', 'status', 'nonce'} of a row the address named and the fill page did not open: shown as
    a note with 打开修改 and 新建下一条 until the filler acts."""
    return f"fill:{form_id}:offer"


# The fill page's 批量导入（Excel） (issue 15, H2: lib.ui.bulk_import). Under the fill page's prefix, so
# a plan checked for one account is dropped with the rest when another signs in on the same tab.
def import_key(form_id: str, part: str) -> str:
    """A widget of the import of ``form_id``: ``template`` (download), ``file`` (the upload), ``mode``
    (草稿 / 提交), ``check`` (检查文件), ``confirm`` (确认导入), ``problems`` (导出问题清单), ``mine``
    (查看我的填报)."""
    return f"fill:{form_id}:import:{part}"


def import_plan_key(form_id: str) -> str:
    """{"digest": the upload's sha256 + name + mode, "plan": the ImportPlan} of the file last checked:
    a file changed, re-uploaded or checked for the other mode is checked again before anything is written."""
    return f"fill:{form_id}:import:plan"


def import_done_key(form_id: str) -> str:
    """{"digest", "created", "updated", "draft"} of the file this session imported: shown as done,
    without a confirm button, until another file is chosen."""
    return f"fill:{form_id}:import:done"


# A file field (lib.ui.widgets: the uploader; lib.ui.record_view: the downloads). The widget's own keys
# hang under its field's widget key (whose value is the answer: the list of stored files), as a table's
# rows do; a file field is never a table, so they cannot meet a table's ``:rows`` or ``:count``.
def file_upload_state_key(field_key: str) -> str:
    """{"round": n, "notes": [refusals of the last upload]} of the file field whose widget key is ``field_key``."""
    return f"{field_key}:upload_state"


def file_upload_key(field_key: str, round_: int) -> str:
    """The uploader of a file field in upload round ``round_``: a new key per round, so the uploader
    comes back empty once its files are taken into the answer."""
    return f"{field_key}:upload:{round_}"


def file_remove_key(field_key: str, digest: str) -> str:
    """The 删除 button of one file (by its SHA-256) of a file field."""
    return f"{field_key}:remove:{digest[:16]}"


def file_download_key(row_id: str, field: str, digest: str) -> str:
    """A read-only view's download of one file: one per row, field and file, so two rows or fields showing
    one photo do not share a button (under ``file:``, outside the fill page's keys)."""
    return f"file:{row_id}:{field}:{digest[:16]}"


# 我的填报
MINE_FORM = "mine:form"
MINE_SEARCH = "mine:search"
MINE_PICKED = "mine:picked"  # the row id chosen in the selectbox
MINE_EXPORT = "mine:export"
MINE_WITHDRAW = "mine:withdraw"  # the 撤回 button


def mine_withdraw_confirm_key(row_id: str) -> str:
    """The "确认撤回" checkbox of one row, so a tick never carries over to another row."""
    return f"mine:withdraw_confirm:{row_id}"


def mine_print_key(row_id: str) -> str:
    return f"mine:print:{row_id}"


def mine_page_key(form_id: str) -> str:
    """我的填报's 页码 for ``form_id``'s rows (another form starts on its first page)."""
    return f"mine:page:{form_id}"


# Official exports (issue 15, H3: lib.ui.official): the 附件格式 downloads, under the page each sits on
MINE_OFFICIAL_EXPORT = "mine:official_export"  # 我的填报's 导出（附件格式）
REVIEW_OFFICIAL_EXPORT = "review:official_export"  # 审核's 按地市导出（附件格式）


# 审核
REVIEW_FORM = "review:form"
REVIEW_WAITING = "review:waiting"  # "only rows waiting for review" toggle
REVIEW_CITY = "review:city"
REVIEW_ORG = "review:org"
REVIEW_SEARCH = "review:search"
REVIEW_VIEW = "review:view"  # the row id being read
REVIEW_ONE_REASON = "review:one_reason"  # the reason typed for the row being read
REVIEW_ONE_APPROVE = "review:one_approve"
REVIEW_ONE_RETURN = "review:one_return"
REVIEW_PICKED = "review:picked"  # row ids chosen in the multiselect
REVIEW_ALL = "review:all"  # "select every waiting row the filters leave" checkbox (every page)
REVIEW_REASON = "review:reason"  # the reason typed for the rows picked
REVIEW_APPROVE = "review:approve"
REVIEW_RETURN = "review:return"
REVIEW_REVS = "review:revs"  # {row id: revision shown} of the waiting rows listed, set by the page
REVIEW_CONFIRM = "review:confirm"  # {"approve": bool, "picks": {row id: revision}} of a large action waiting for its confirmation
REVIEW_CONFIRM_YES = "review:confirm_yes"
REVIEW_CONFIRM_NO = "review:confirm_no"


def review_choice_key(field_key: str) -> str:
    """The filter selectbox of one select field."""
    return f"review:choice:{field_key}"


def review_print_key(row_id: str) -> str:
    return f"review:print:{row_id}"


def review_page_key(form_id: str) -> str:
    """审核's 页码 for ``form_id``'s queue (another form starts on its first page)."""
    return f"review:page:{form_id}"


# 账号管理
ADMIN_CREATE = "admin:create"  # the forms
ADMIN_PASSWORD = "admin:password"
ADMIN_ORG_CODE = "admin:org_code"
ADMIN_TARGET = "admin:target"  # the account the changes apply to
ADMIN_DISABLE = "admin:disable"
ADMIN_ENABLE = "admin:enable"


# Filter-down tables (lib.ui.board.drill, on the board and the register page): one selectbox per
# column and an export button, under the table's own key.
def drill_filter_key(table: str, column: str) -> str:
    """The selectbox narrowing ``table`` (a key from board_table_key or register_key) by ``column``."""
    return f"{table}:{column}"


def drill_export_key(table: str) -> str:
    """The 导出为 Excel button of ``table``."""
    return f"{table}:export"


# 进度看板
BOARD_AS_OF = "board:as_of"  # the campaign clock's date input (also on the register page's 核对结果)
BOARD_TAB = "board:tab"  # the open tab
BOARD_PROGRESS_FORM = "board:progress:form"  # the form the progress chart shows
BOARD_CONFLICTS_EXPORT = "board:conflicts:export"  # 导出待核定清单
BOARD_SEEN = "board:seen"  # what the open board was last drawn from (board_live.data_key, board_live.seen_key), for board_live.live's watcher
BOARD_CLOCK = "board:clock"  # the watcher's clock (lib.ui.visibility), a widget of the open board


def board_table_key(name: str) -> str:
    """A filter-down table of the board (``progress:table``, ``progress:units``, ``providers``, ``late``, ...)."""
    return f"board:{name}"


# 台账导入与核对 (one panel per register kind: ``vouchers``, ``projects``)
def register_key(kind: str, name: str) -> str:
    """A widget of one register kind's panel: ``template`` and ``problems`` (downloads), ``file`` (the
    upload), ``current`` (the filter-down table of the register in force)."""
    return f"register:{kind}:{name}"


def register_confirm_key(kind: str) -> str:
    """The 确认导入 button of one register kind."""
    return f"register:confirm:{kind}"


def register_parsed_key(kind: str) -> str:
    """(sha256 of the upload + its file name, the ParsedRegister made from it) of one register kind:
    an upload is read and validated once, not on every rerun."""
    return f"register:parsed:{kind}"


def register_imported_key(kind: str) -> str:
    """(that digest, the ImportSummary) of the upload this session imported, per register kind."""
    return f"register:imported:{kind}"


# 审计日志
AUDIT_ACCOUNT = "audit:account"  # the filters
AUDIT_FORM = "audit:form"
AUDIT_ROW = "audit:row"
AUDIT_ACTIONS = "audit:actions"
AUDIT_DAYS = "audit:days"
AUDIT_PAGE = "audit:page"  # the trail table's 页码
AUDIT_EXPORT = "audit:export"  # the downloads: the filtered trail, one row's history
AUDIT_HISTORY_EXPORT = "audit:history_export"


# 随机抽查 (lib.ui.sampling)
SAMPLING_FREEZE = "sampling:freeze"  # 冻结抽样框: asks for the confirmation
SAMPLING_FREEZE_ASKED = "sampling:freeze_asked"  # True while the confirmation is shown
SAMPLING_FREEZE_YES = "sampling:freeze_yes"
SAMPLING_FREEZE_NO = "sampling:freeze_no"
SAMPLING_FRAME_EXPORT = "sampling:frame_export"  # 下载抽样框
SAMPLING_SEED = "sampling:seed"  # the seed typed (or generated and shown)
SAMPLING_SEED_GENERATE = "sampling:seed_generate"  # 系统生成随机数
SAMPLING_SEED_GENERATED = "sampling:seed_generated"  # the seed the system generated, to record it as generated while it is unchanged
SAMPLING_REASON = "sampling:reason"  # the reason of a redraw
SAMPLING_DRAW = "sampling:draw"  # 抽取 / 重新抽取
SAMPLING_SAMPLE_EXPORT = "sampling:sample_export"  # 下载抽中名单
SAMPLING_VERIFY_PICK = "sampling:verify_pick"  # the draw id to verify
SAMPLING_VERIFY = "sampling:verify"  # 核验
SAMPLING_COMPLAINTS_TEMPLATE = "sampling:complaints:template"  # 下载导入模板 (投诉举报)
SAMPLING_COMPLAINTS_FILE = "sampling:complaints:file"  # the complaints upload
SAMPLING_COMPLAINTS_IMPORT = "sampling:complaints:import"  # 导入投诉举报
SAMPLING_COMPLAINTS_PROBLEMS = "sampling:complaints:problems"  # 导出问题清单
SAMPLING_COMPLAINTS_OUTCOME = "sampling:complaints:outcome"  # what the last import said: (kind, text, problems table or None)


def sampling_outcome_key(step: str) -> str:
    """{"kind": success | error | info, "lines": [...]} of the last action of one step (``freeze``, ``draw``,
    ``verify``), shown in that step's section until its next action."""
    return f"sampling:outcome:{step}"


# 全面整改 (lib.ui.rectification: the lists, generation, adding by hand; lib.ui.rectification_item: one item)
RECTIFY_CITY = "rectify:city"  # the lists' narrowing: 督办地市, 状态, 整改类别
RECTIFY_STATUS = "rectify:status"
RECTIFY_CATEGORY = "rectify:category"
RECTIFY_LIST = "rectify:list"  # which list is open (a key of lib.rectification.lists.LISTS)
RECTIFY_GENERATE = "rectify:generate"  # 生成整改事项
RECTIFY_ADD = "rectify:add"  # the form adding an item by hand (st.form key); its fields: rectify_add_key
RECTIFY_PICK = "rectify:pick"  # the item id open in the item view
RECTIFY_REASON = "rectify:reason"  # the reason of 退回
RECTIFY_VIOLATION = "rectify:violation"  # the form recording a violation (st.form key); its fields: rectify_violation_key


def rectify_table_key(name: str) -> str:
    """The filter-down table of one list (a key of lib.rectification.lists.LISTS)."""
    return f"rectify:table:{name}"


def rectify_add_key(field: str) -> str:
    """One field of the form adding an item by hand (the key of an item's column)."""
    return f"rectify:add:{field}"


def rectify_violation_key(part: str) -> str:
    """One field of the form recording a violation (``kind``, ``amount``, ``reference``)."""
    return f"rectify:violation:{part}"


def rectify_outcome_key(step: str) -> str:
    """{"kind": success | error | info, "lines": [...]} of the last action of one part (``generate``, ``add``,
    ``item``), shown there until its next action."""
    return f"rectify:outcome:{step}"


def outcome_confirm_key(outcome: str, action: str, part: str) -> str:
    """A widget of 移除 / 添加 (``action``) on outcome list ``outcome``: ``part`` pick, reason or button."""
    return f"rectify:outcomes:{outcome}:{action}:{part}"


def rectify_step_key(item_id: str, step: str, part: str) -> str:
    """A widget of one step of an item's checklist: ``done`` (the tick), ``text`` (its text) or ``files``
    (its file field: the list of stored files, its uploader's keys under it as lib.ui.widgets makes them)."""
    return f"rectify:item:{item_id}:{step}:{part}"


def rectify_action_key(item_id: str, action: str) -> str:
    """The button of one action on an item (保存, 提交整改材料, 通过, 退回, 销号)."""
    return f"rectify:item:{item_id}:action:{action}"


def rectify_file_key(item_id: str, step: str, digest: str) -> str:
    """The download of one evidence file of one step of an item (two steps may hold the same file)."""
    return f"rectify:item:{item_id}:file:{step}:{digest[:16]}"


# 首页 待办 (lib.ui.todo)
def todo_open_key(n: int) -> str:
    """The 打开 button of the ``n``-th entry of the 待办 list (from 0)."""
    return f"todo:open:{n}"


# 报告汇总 (lib.ui.archive: the reports as Word, a city's archive and its forwarding; issue 15, H4)
ARCHIVE_ZIP = "archive:zip"  # 下载本市汇总压缩包
ARCHIVE_ALL = "archive:all"  # the province's 下载全部地市汇总压缩包
ARCHIVE_NOTE = "archive:note"  # the note of 确认已报送
ARCHIVE_FORWARD = "archive:forward"  # 确认已报送
ARCHIVE_RECALL = "archive:recall"  # 撤回报送确认
ARCHIVE_OUTCOME = "archive:outcome"  # {"kind": success | error, "text": ...} of the last forward or recall, shown once
ARCHIVE_SEEN = "archive:seen"  # the revision of the confirmation the page showed when 撤回 was clicked (a stale page is refused)


def archive_report_key(row_id: str) -> str:
    """The 下载 Word button of one report."""
    return f"archive:report:{row_id}"


def archive_city_key(city: str) -> str:
    """The province's download of one city's archive."""
    return f"archive:city:{city}"


# 表单设计 (issue 16, D4: pages/designer.py, lib.ui.designer*). Under ``designer:``; the preview draws the form
# with the fill page's widgets in a key space of its own, so it never touches a filler's answers.
DESIGNER_PREFIX = "designer:"
DESIGNER_PREVIEW = "designer:preview:"  # the preview's key space (see spaced)
DESIGNER_FILE = "designer:file"  # the file chosen
DESIGNER_TEXT = "designer:text"  # the YAML text area
DESIGNER_ACCOUNT = "designer:account"  # the account the designer's keys belong to
DESIGNER_OPENED = "designer:opened"  # {"file", "form_id", "based_on", "draft"}: the file the text area holds, the version it started from
DESIGNER_ASIDE = "designer:aside"  # {file: {"opened", "text"}}: the edits of the files left for another, back when chosen again
DESIGNER_SHOWN = "designer:shown"  # the last text that parsed: the preview keeps showing it while the text has problems
DESIGNER_OUTCOME = "designer:outcome"  # {"kind": success | error | info | warning, "lines": [...]} of the last action
DESIGNER_SAVE = "designer:save"  # 保存草稿
DESIGNER_CHECK = "designer:check"  # 检查
DESIGNER_PUBLISH = "designer:publish"  # 发布 (shows the impact)
DESIGNER_IMPACT = "designer:impact"  # {"file", "sha256", "lines"}: the impact shown for the text of that digest
DESIGNER_NOTE = "designer:note"  # 发布说明
DESIGNER_CONFIRM = "designer:confirm"  # 确认发布
DESIGNER_DISCARD = "designer:discard"  # 放弃修改 (back to the served version)
DESIGNER_HISTORY_A = "designer:history:a"  # the two versions compared
DESIGNER_HISTORY_B = "designer:history:b"
DESIGNER_ROLLBACK = "designer:rollback"  # 恢复此版本
DESIGNER_ROLLBACK_NOTE = "designer:rollback_note"
DESIGNER_ROLLBACK_ASK = "designer:rollback_ask"  # {"file", "version", "lines", "based_on"}: a restore that changes stored rows, waiting for 确认恢复
DESIGNER_ROLLBACK_CONFIRM = "designer:rollback_confirm"
DESIGNER_WITHDRAW_SURE = "designer:withdraw_sure"  # 停用此文件 (fix C9 of attack C): the box ticked to confirm
DESIGNER_WITHDRAW = "designer:withdraw"  # 停用此文件


def designer_palette_key(part: str) -> str:
    """A widget of the palette adding a field (``form`` the st.form, ``section``, ``key``, ``type``, ``label``,
    ``required``, ``choices``, ``help``)."""
    return f"designer:palette:{part}"


def spaced(space: str, key: str) -> str:
    """The fill page key ``key`` (``fill:…``) in key space ``space``: "" leaves it the fill page's own.

    >>> spaced(DESIGNER_PREVIEW, field_key("f", "k"))
    'designer:preview:f:field:k'
    >>> spaced("", field_key("f", "k"))
    'fill:f:field:k'
    """
    return space + key.removeprefix(FILL_PREFIX) if space else key
