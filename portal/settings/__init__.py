"""Settings for the partner portal (DJANGO_SETTINGS_MODULE=portal.settings), read from the environment.

Split by concept, each part extending the one before it: `base` (Django, security, secrets, DocuSign environments,
Celery, sign-in, logging), `capabilities` (what the DocuSign capabilities need), `services` (operations, events to the
ISV's product, the ISV's API). Every value has an embedded default that runs the whole product on one machine.
"""

from portal.settings.services import *  # noqa: F403
