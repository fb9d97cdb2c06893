"""A person filing a form over Streamlit's websocket protocol, without a browser: bench/sessions_bench.py's
submitters, so the bench measures the server's answer to a submit and not a renderer competing with the
server for the same two cores (a person's browser runs on the person's own machine).

The session does what the browser's widget manager does for what a person enters: it keeps each value
entered (by the widget's id, as the run sent it), sends all of them with each rerun, forgets those a run no
longer drew, and sends a button's click as a trigger that holds for one run. (A browser also sends the values
of widgets nobody touched, as the run drew them; the server holds those already.) Each change is one rerun,
and the next change waits for that run to end, as a person who waits for the page to settle.

Not a bench itself, and not a test of the pages (the browser suite drives them in Chromium).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from typing import Any

#: The widget elements a run can draw, by their proto's field name in ``Element``, and the WidgetState value
#: each sends (Streamlit 1.67's ``value_type`` of each widget).
VALUE_TYPES = {"text_input": "string_value", "text_area": "string_value", "selectbox": "string_value",
               "radio": "string_value", "number_input": "double_value", "date_input": "string_array_value",
               "multiselect": "string_array_value", "checkbox": "bool_value", "button": "trigger_value"}


@dataclass(frozen=True)
class Widget:
    kind: str
    id: str
    label: str  # without the " *" of a required field
    disabled: bool
    options: tuple[str, ...]


class Refused(Exception):
    """The page answered a submit with a refusal, or a field to fill was not drawn."""


class ProtocolFiler:
    """One signed-in session (``cookie``) on ``page`` (``query``: its query string) at ``stream``
    (``ws://host:port/_stcore/stream``). Use from one asyncio loop: ``await open()``, then ``set`` and
    ``click``; ``close`` in the end."""

    def __init__(self, stream: str, cookie: str, page: str, query: str = "", *, timeout: float = 120):
        self.stream, self.cookie, self.page, self.query, self.timeout = stream, cookie, page, query, timeout
        self.page_hash = ""
        self.widgets: dict[str, Widget] = {}  # by label: what the last finished run drew
        self.values: dict[str, Any] = {}  # by widget id: (value type, value)
        self._drawn: dict[str, Widget] = {}
        self._text = bytearray()  # every delta of the current run, raw (a text is looked for in it)
        self._finished: asyncio.Future | None = None
        self._watch: tuple[bytes, ...] = ()
        self._seen_at: float | None = None  # when a delta with one of ``_watch`` in it arrived
        self.socket = None
        self._reader: asyncio.Task | None = None
        self.runs = 0

    # -- the protocol ------------------------------------------------------------------------------------

    def _rerun(self, trigger: str = "") -> bytes:
        from _server import rerun_message

        msg = rerun_message(self.stream, self.page, self.page_hash, self.query)
        state = msg.rerun_script
        for wid, (kind, value) in self.values.items():
            widget = state.widget_states.widgets.add()
            widget.id = wid
            if kind == "string_array_value":
                widget.string_array_value.data.extend(value)
            else:
                setattr(widget, kind, value)
        if trigger:
            widget = state.widget_states.widgets.add()
            widget.id = trigger
            widget.trigger_value = True
        return msg.SerializeToString()

    def _element(self, element) -> None:
        kind = element.WhichOneof("type")
        if kind not in VALUE_TYPES:
            return
        proto = getattr(element, kind)
        label = proto.label.removesuffix(" *")
        options = tuple(getattr(proto, "options", ()) or ())
        self._drawn.setdefault(label, Widget(kind, proto.id, label, bool(proto.disabled), options))

    async def _read(self) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        async for data in self.socket:
            msg = ForwardMsg()
            msg.ParseFromString(data)
            kind = msg.WhichOneof("type")
            if kind == "new_session":  # a run begins: what it draws replaces what the last one drew
                self._drawn, self._text = {}, bytearray()
            elif kind == "navigation":
                self.page_hash = msg.navigation.page_script_hash
            elif kind == "delta":
                self._text += data
                if self._seen_at is None and any(w in data for w in self._watch):
                    self._seen_at = time.perf_counter()
                if msg.delta.WhichOneof("type") == "new_element":
                    self._element(msg.delta.new_element)
            elif kind == "script_finished":
                self.runs += 1
                if msg.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    continue  # st.rerun() or a newer rerun: the run that follows is the answer
                self.widgets = self._drawn
                drawn = {w.id for w in self._drawn.values()}
                self.values = {wid: v for wid, v in self.values.items() if wid in drawn}
                if self._finished is not None and not self._finished.done():
                    self._finished.set_result(bytes(self._text))

    async def _send(self, trigger: str = "") -> bytes:
        """One rerun with every value held (and ``trigger`` clicked); the bytes of the run's deltas."""
        self._finished = asyncio.get_running_loop().create_future()
        await self.socket.send(self._rerun(trigger))
        done, _ = await asyncio.wait({self._finished, self._reader}, timeout=self.timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        if self._finished not in done:
            raise TimeoutError(f"{self.page}: no run ended within {self.timeout} s"
                               + (" (the connection closed)" if self._reader in done else ""))
        return self._finished.result()

    async def open(self, title: str) -> None:
        """Connect, run the page, and return once a run has drawn ``title`` (the process's first session is
        sent home by the router once: asked again, as a person clicks the page again)."""
        from websockets.asyncio.client import connect

        self.socket = await connect(self.stream, subprotocols=["streamlit"], max_size=None, open_timeout=60,
                                    ping_interval=None, additional_headers={"Cookie": self.cookie})
        self._reader = asyncio.ensure_future(self._read())
        for _ in range(3):
            if title.encode() in await self._send():
                return
            self.page_hash = ""  # ask for the page by name again
        raise Refused(f"{self.page}: {title!r} was not drawn")

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        if self.socket is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.socket.close(), 10)

    # -- what a person does --------------------------------------------------------------------------------

    def widget(self, label: str) -> Widget:
        """The widget labelled ``label``, or else the first whose label starts with it (a unit after the
        name: 合同金额（万元）), as the browser journeys find a field."""
        found = self.widgets.get(label) or next((w for name, w in self.widgets.items() if name.startswith(label)), None)
        if found is None:
            raise Refused(f"{self.page}: no field {label!r} drawn (drawn: {', '.join(self.widgets)[:300]})")
        return found

    async def set(self, label: str, text: str) -> None:
        """Enter ``text`` in the field labelled ``label`` (a choice by its option's text, a date as
        YYYY-MM-DD, a number as written); a locked field is left as the page filled it."""
        widget = self.widget(label)
        if widget.disabled:
            return
        kind = VALUE_TYPES[widget.kind]
        if widget.kind in ("selectbox", "radio") and text not in widget.options:
            raise Refused(f"{label}: {text!r} is not among {widget.options}")
        value: Any = {"double_value": lambda: float(text), "string_array_value": lambda: [text],
                      "bool_value": lambda: text == "true"}.get(kind, lambda: text)()
        self.values[widget.id] = (kind, value)
        await self._send()

    async def click(self, label: str, shows: tuple[str, ...] = ()) -> tuple[bytes, float]:
        """Click the button ``label``; the run's deltas and the seconds from the click until the first of
        ``shows`` arrived (as a browser shows it, before the run has drawn the rest), or the run ended."""
        widget = self.widget(label)
        self._watch, self._seen_at = tuple(s.encode() for s in shows), None
        start = time.perf_counter()
        try:
            text = await self._send(trigger=widget.id)
        finally:
            self._watch = ()
        return text, (self._seen_at or time.perf_counter()) - start
