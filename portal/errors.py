"""Error reports that never carry a secret (security checklist TS-8)."""

import re

from django.views.debug import SafeExceptionReporterFilter


class SecretScrubbingFilter(SafeExceptionReporterFilter):
    """Django's filter, widened to the names our secrets and connection strings go by."""

    hidden_settings = re.compile(
        r"API|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|URL|DSN|BROKER|DATABASE|ASSERTION|CODE_VERIFIER",
        flags=re.IGNORECASE,
    )
