"""How often each kind of suspicious case is planted.

Every kind but one is planted in recipient households (on dibao or tekun): its rate is
the share of those households that get it, so the rates of these kinds may add up to
at most 1. `single_person_candidate` is planted in low-income households instead, at its
own rate. The defaults (5.7 % drawn, about 4 % planted: a household without anyone of
the right age cannot take some kinds) make about 4 % of the people on the roll
suspicious, the rate Jiangsu published for its batch comparisons (4 % of person-checks,
2016).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Final

MAX_RATE: Final = 0.5


@dataclass(frozen=True, slots=True)
class PlantRates:
    deceased_on_roll: float = 0.007
    roll_two_counties: float = 0.004
    two_households: float = 0.006
    hidden_second_home: float = 0.006
    vehicle: float = 0.007
    large_deposit: float = 0.007
    undeclared_wage: float = 0.008
    income_rose_after_work: float = 0.005
    tekun_minor_turning_18_student: float = 0.003
    caseworker_relative: float = 0.004
    single_person_candidate: float = 0.03

    def __post_init__(self) -> None:
        for kind, rate in self.as_dict().items():
            if not 0 <= rate <= MAX_RATE:
                raise ValueError(f"rate of {kind} must be between 0 and {MAX_RATE}, got {rate}")
        total = sum(rate for kind, rate in self.as_dict().items() if kind in RECIPIENT_KINDS)
        if total > 1:
            raise ValueError(
                f"the rates of kinds planted in recipient households add up to {total:g} > 1"
            )

    @classmethod
    def kinds(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def uniform(cls, rate: float) -> PlantRates:
        """Every kind at the same rate (tests use it to see every kind in a small city)."""
        return cls(**dict.fromkeys(cls.kinds(), rate))


RECIPIENT_KINDS: Final = tuple(k for k in PlantRates.kinds() if k != "single_person_candidate")
