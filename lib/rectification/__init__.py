"""Rectification to closure (全面整改, the notice's third phase): items opened from findings by the rules of
campaign.yaml's ``rectification:`` section, each a checklist the responsible party works through with
evidence, verified by the city and closed (销号) by the province; the lists the office works from and the
outcome lists. ``records`` is the storage and the lifecycle's statuses; ``generate`` opens items from the
findings (idempotent) or by hand; ``scope`` says which items an account sees; ``lifecycle`` moves an item
(tick, submit, verify or return, close, violations); ``lists`` the 问题 / 任务 / 责任清单; ``outcomes`` the
outcome lists the province confirms; ``progress`` the board's 整改进度."""
