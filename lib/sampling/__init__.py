"""Random sampling (随机抽查) of a campaign's projects: a frozen frame, a reproducible weighted draw, and its check.

``frame`` builds and freezes the sampling frame (the in-scope projects with their priority facts,
fingerprinted); ``draw`` is the pure, stratified πps draw with exact inclusion probabilities;
``record`` stores frames and draws in the store; ``verify`` re-checks a project or an inspector draw
(``python -m lib.sampling verify``); ``estimate`` turns an inspected sample into estimates with their
intervals and ``progress`` gives the board's 抽查进度 per city; ``complaints`` imports the complaints the
priority rules count; ``parties`` and ``inspectors`` are the 双随机 draw of inspection groups with 回避,
``assignments`` what it sends each inspector to. The method, as an auditor follows it by hand:
docs/sampling.md.
"""
