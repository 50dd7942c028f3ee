"""What another agency may learn: whether a person holds assistance status, and when.

Status, category and validity window only: never amounts, finances, family or
where the person lives. An unknown person and a person without assistance get
the same answer.
"""

from __future__ import annotations

from datetime import date
from enum import Enum

import strawberry

from graph.assistance_reader import AssistanceGrant
from hub.api.types.cases import AssistanceCategory


@strawberry.enum(description="Why an agency asks; required, and recorded with every look-up.")
class Purpose(Enum):
    EDUCATION_AID = "education_aid"  # 教育资助
    HOUSING_AID = "housing_aid"  # 住房保障
    MEDICAL_AID = "medical_aid"  # 医疗救助
    EMPLOYMENT_AID = "employment_aid"  # 就业援助
    UTILITY_RELIEF = "utility_relief"  # 水电气减免
    LEGAL_AID = "legal_aid"  # 法律援助


@strawberry.type(description="One assistance grant in force on the day asked about.")
class StatusGrant:
    category: AssistanceCategory
    valid_from: date
    valid_to: date | None


@strawberry.type(description="Assistance status on a day: status, category and window only.")
class AssistanceStatus:
    on: date
    receiving: bool
    grants: list[StatusGrant]


def assistance_status(grants: list[AssistanceGrant], on: date) -> AssistanceStatus:
    in_force = sorted((g for g in grants if g.in_force), key=lambda g: (g.category, g.valid_from))
    return AssistanceStatus(
        on=on,
        receiving=bool(in_force),
        grants=[
            StatusGrant(
                category=AssistanceCategory(g.category),
                valid_from=g.valid_from,
                valid_to=g.valid_to,
            )
            for g in in_force
        ],
    )
