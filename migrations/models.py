"""Every model of every package, for Alembic autogenerate and the isolation tests."""

import core.models  # noqa: F401
import tenants.models  # noqa: F401
from core.db import Base

metadata = Base.metadata
