"""The synthetic city of Xinxiang: households, people and what six departments know of them.

    from sandbox.city import generate_city
    manifest = generate_city(Path("city"), households=10_000, seed=7)

writes the folder described in `sandbox.store` (six SQLite files, manifest, credentials,
ground truth). Same seed, size and reference date: same city.
"""

from sandbox.city.generate import CityRequestError, Manifest, generate_city
from sandbox.city.rates import PlantRates

__all__ = ["CityRequestError", "Manifest", "PlantRates", "generate_city"]
