"""The live status boards: who has reported, who is late, what the reports say, against the registers.

Pure functions on DataFrames, in two steps so many viewers share the work:

1. ``preparation.prepare_as_of(frames, vouchers, projects, calendar, as_of, audit)`` — the expensive
   part, once per data change: take the forms as they stood at the end of ``as_of`` (``history``,
   from the store's audit), read them through the campaign's bindings (``lib.campaign.bound``), keep
   the rows that count (not 草稿/已撤回), match them to the registers, and build the ``units`` (one
   row per thing that is due or was reported: a register entry, an off-register report, a duplicate,
   a draft).
2. ``figures.board(prepared, scope)`` — cheap: narrow to what the viewer may read (``scope``, derived
   from ``lib.auth.policy``) and aggregate.

What is expected (应报) per city, by the kind of form (``campaign.yaml`` bindings):

* the projects form — the in-scope entries of the voucher register in that city (one row per project);
* the benchmark reports — the in-scope benchmark projects of that city, except the Ministry's
  (the programme the binding calls ``ministry``): those owe no report and are counted apart (免报);
* the checks — also the voucher register entries of that city: the form asks the city to list every
  project, checked or not, so "one row per city" would hide omissions.

A register entry counts as reported by its earliest filing, at the time it was filed (submitted, not
when its draft was created; a withdrawn row resubmitted counts from the resubmission); a filing made
after the form's deadline is 逾期报送 (late), one still in 退回修改 is returned; once the deadline has
passed (as of the campaign clock) an entry with no filing is 逾期未报.

Modules: ``units`` (states of due and filed things), ``detail_tables`` (the reported rows as shown),
``preparation`` (step 1), ``incremental`` (step 1 again after a few rows changed), ``scope`` (what a
viewer may read), ``figures`` (step 2), with ``tally`` (fast group counts), ``counts`` (the province's
counts, kept with step 1's frames so that its board after a new row counts only the rows that changed),
``late_list`` and ``history`` (the rows as they stood on a day); ``export`` writes the tables to Excel with each column's kind.
The campaign's calendar is ``lib.campaign.schedule``.
"""
