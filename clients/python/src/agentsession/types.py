"""The contract's models (generated from openapi.yaml), plus TurnResult.text().

Every enum of a response holds the enum member for known values and the
plain string for values a newer server sends; members the SDK does not know
are kept (``model_extra``), and ``raw()`` returns the JSON exactly as sent.
"""

from ._generated import *  # noqa: F403
from ._turn import TurnResult as TurnResult
