"""Xinxiang's twelve current county-level codes: the partitions of the county-wise exports.

Departments file households and properties under the current code; the retired
codes (汲县 410722, 辉县 410723, 长垣县 410728) survive only inside older ID numbers,
so no export is partitioned by them.
"""

from __future__ import annotations

XINXIANG_COUNTIES = (
    "410702", "410703", "410704", "410711", "410721", "410724",
    "410725", "410726", "410727", "410781", "410782", "410783",
)  # fmt: skip
