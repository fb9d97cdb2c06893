"""Random sampling (随机抽查) of a campaign's projects: a frozen frame, a reproducible weighted draw, and its check.

``frame`` builds and freezes the sampling frame (the in-scope projects with their priority facts,
fingerprinted); ``draw`` is the pure, stratified πps draw with exact inclusion probabilities;
``record`` stores frames and draws in the store; ``verify`` re-checks a draw (``python -m lib.sampling
verify``); ``estimate`` turns an inspected sample into Horvitz–Thompson estimates; ``inspectors`` is
the 双随机 draw of inspection groups with 回避. The method, as an auditor follows it by hand:
docs/sampling.md.
"""
