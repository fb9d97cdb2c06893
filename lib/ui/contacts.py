"""Whom to call: the campaign's contacts (``CampaignSpec.contacts``) on 首页, the sign-in page and
the late list."""

from __future__ import annotations

import re

import streamlit as st

from lib.forms.spec import Contact
from lib.ui.record_view import plain_text


def contact_line(contact: Contact) -> str:
    """One contact as a markdown line; the phone number is a link a phone can dial.

    >>> contact_line(Contact(name="李工", unit="工业互联网处", topic="附件1", phone="020-8313 3000", email="a@b.cn"))
    '**李工**（工业互联网处）　附件1　电话 [020\\\\-8313 3000](tel:02083133000)　邮箱 <a@b.cn>'
    """
    parts = [f"**{plain_text(contact.name)}**" + (f"（{plain_text(contact.unit)}）" if contact.unit else "")]
    if contact.topic:
        parts.append(plain_text(contact.topic))
    if contact.phone:
        dial = re.sub(r"[^\d+]", "", contact.phone)
        parts.append(f"电话 [{plain_text(contact.phone)}](tel:{dial})" if dial else f"电话 {plain_text(contact.phone)}")
    if contact.email:
        parts.append(f"邮箱 <{contact.email}>" if re.fullmatch(r"[^\s<>@]+@[^\s<>@]+", contact.email) else f"邮箱 {plain_text(contact.email)}")
    return "　".join(parts)


def contacts_box(contacts: tuple[Contact, ...], title: str = "联系方式", note: str = "") -> None:
    """The contacts in a bordered box with a title (nothing when the campaign declares none)."""
    if not contacts:
        return
    with st.container(border=True):
        st.markdown(f"**{title}**")
        if note:
            st.caption(note)
        st.markdown("\n".join(f"- {contact_line(c)}" for c in contacts))
