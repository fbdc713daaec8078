"""Error reports that never carry a secret (docs/security.md TS-8)."""

import re
from collections.abc import ItemsView
from typing import Any

from django.views.debug import SafeExceptionReporterFilter


class SecretScrubbingFilter(SafeExceptionReporterFilter):
    """Django's filter, widened to the names our secrets and connection strings go by."""

    hidden_settings = re.compile(
        r"API|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|URL|DSN|BROKER|DATABASE|ASSERTION|CODE_VERIFIER",
        flags=re.IGNORECASE,
    )

    def get_traceback_frame_variables(self, request: object, tb_frame: Any) -> ItemsView[str, Any]:
        """Also hide each frame's locals (and dict keys) whose names look secret, with or without @sensitive_variables:
        a view or task that forgot the decorator must not mail a refresh token held in `refresh_token`."""
        return {name: self.cleanse_setting(name, value)
                for name, value in super().get_traceback_frame_variables(request, tb_frame)}.items()
