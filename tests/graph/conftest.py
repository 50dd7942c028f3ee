from __future__ import annotations

import pytest

from authz.protection import FieldProtection


@pytest.fixture(scope="session")
def protection(tmp_path_factory: pytest.TempPathFactory) -> FieldProtection:
    return FieldProtection.local(tmp_path_factory.mktemp("keys"))
