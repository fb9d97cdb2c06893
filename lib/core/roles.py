"""The roles an account may have, by their stable keys: the one home of the keys.

What each role may see and do is ``lib.auth.policy`` (the access model); what each role is CALLED
is the campaign's (``roles:`` in campaign.yaml, key -> Chinese name), and the loader refuses a
campaign that leaves one of these keys unnamed or names a key that is not here. Form files name
who fills and reviews them by these keys (``filled_by``, ``reviewed_by``), accounts store them.
The keys live in ``core`` because the forms layer checks them when it loads a file, below the
auth layer that gives them their meaning.

>>> PROVINCE in ALL and len(set(ALL)) == len(ALL) == 6
True
"""

from __future__ import annotations

PROVINCE = "province"  # the provincial department: every city, every form; imports the registers, draws the sample
CITY = "city"  # a city bureau: its own city's rows
PROVIDER = "provider"  # a service provider: its own organisation's rows
LEAD_UNIT = "lead_unit"  # a benchmark project's lead unit: its own organisation's rows
INSPECTOR = "inspector"  # a member of an inspection group: reads only what the inspector draw in force assigns it
#                           (its group's city, of the projects form the sampled projects); nothing without one
ADMIN = "admin"  # the system administrator: accounts, the audit trail

#: Every role, in the order lists and pickers show them.
ALL = (PROVINCE, CITY, PROVIDER, LEAD_UNIT, INSPECTOR, ADMIN)
#: Roles whose account acts for an organisation (a provider, a lead unit): the account names it, and
#: reaches the rows filed for it (``lib.auth.policy``).
ORG_ROLES = (PROVIDER, LEAD_UNIT)
