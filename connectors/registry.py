"""Which connector speaks to which department."""

from __future__ import annotations

from connectors.base import Connector
from connectors.departments.banking import BankingConnector
from connectors.departments.housing import HousingConnector
from connectors.departments.medical import MedicalConnector
from connectors.departments.public_security import PublicSecurityConnector
from connectors.departments.tax import TaxConnector
from graph.model import Source

CONNECTORS: dict[Source, type[Connector]] = {
    Source.PUBLIC_SECURITY: PublicSecurityConnector,
    Source.HOUSING: HousingConnector,
    Source.TAX: TaxConnector,
    Source.BANKING: BankingConnector,
    Source.MEDICAL: MedicalConnector,
}
