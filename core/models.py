"""Imports every model module of ``core``, so the mapper registry is complete.

Imported by the app factory, migrations and tests; never by a model module itself.
"""

from core.api_clients import models as api_clients  # noqa: F401
from core.audit import models as audit  # noqa: F401
from core.children import models as children  # noqa: F401
from core.idempotency import models as idempotency  # noqa: F401
from core.institutions import models as institutions  # noqa: F401
from core.users import models as users  # noqa: F401
from core.cases import models as cases  # noqa: F401
from core.identity import models as identity  # noqa: F401
from core.submissions import models as submissions  # noqa: F401
from core.plugins import models as plugins  # noqa: F401
from core.sen import models as sen  # noqa: F401
from core.integrations import models as integrations  # noqa: F401
from core.transfers import models as transfers  # noqa: F401
from core.disagreements import models as disagreements  # noqa: F401
from core.circumstances import models as circumstances  # noqa: F401
from core.disagreements import letters as letters  # noqa: F401
