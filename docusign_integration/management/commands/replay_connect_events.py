"""`manage.py replay_connect_events`: process stored Connect messages again, or ask DocuSign to resend failed ones."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q

from docusign_integration.connect.events import connect_event_replay
from docusign_integration.connect.hmac import organization_for_account
from docusign_integration.connect.models import ConnectEventState
from docusign_integration.connect.tasks import republish_failures
from docusign_integration.models import ConnectEvent
from tenants.models import ClientOrganization


class Command(BaseCommand):
    help = (
        "Replay stored Connect messages: those still `received` (their task was lost) and, with --quarantined, the "
        "quarantined ones, e.g. after the client organization for an unknown account was created. Applying is "
        "idempotent, so replaying an already-applied change changes nothing. --from-docusign instead asks DocuSign to "
        "republish the messages it failed to deliver (GET /connect/failures, PUT /connect/envelopes/retry_queue)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--organization", metavar="SLUG", help="only this client organization")
        parser.add_argument("--quarantined", action="store_true", help="also replay quarantined messages")
        parser.add_argument("--from-docusign", action="store_true", help="ask DocuSign to republish its failures")
        parser.add_argument("--dry-run", action="store_true", help="count what would be replayed; change nothing")

    def handle(self, *args: object, organization: str | None, quarantined: bool, from_docusign: bool, dry_run: bool,
               **options: object) -> None:
        owner = ClientOrganization.objects.filter(slug=organization).first() if organization else None
        if organization and owner is None:
            raise CommandError(f"No client organization has the slug {organization!r}.")
        if from_docusign:
            self._republish(owner, dry_run=dry_run)
            return
        states = [ConnectEventState.RECEIVED, *([ConnectEventState.QUARANTINED] if quarantined else [])]
        events = ConnectEvent.objects.filter(state__in=states).order_by("generated_at", "pk")
        if owner is not None and owner.is_hosted:
            # The ISV account's id names every hosted client: only the client's own messages (docs/docusign.md §10.1).
            events = events.filter(organization=owner)
        elif owner is not None:
            events = events.filter(Q(organization=owner) | Q(organization=None, account_id=(owner.account_id or "-").lower()))
        total = events.count()
        if dry_run:
            self.stdout.write(f"Would replay {total} Connect message(s).")
            return
        outcome: dict[str, int] = {}
        for done, event in enumerate(events.select_related("organization"), start=1):
            # A quarantined unknown account may belong to an organization created since.
            owner_now = event.organization or organization_for_account(event.account_id)
            if owner_now is None:
                state = "still without an organization"
            elif event.organization is None and owner_now.is_hosted:
                state = "left alone (the ISV account's message names no hosted client)"
            else:
                state = (connect_event_replay(event.pk, acting_user=None, organization=owner_now,
                                                  quarantined=quarantined)
                         or "left alone (processed or parked meanwhile)")
            outcome[state] = outcome.get(state, 0) + 1
            if done % 500 == 0:
                self.stdout.write(f"  {done}/{total}")
        summary = ", ".join(f"{count} {state}" for state, count in sorted(outcome.items())) or "nothing to do"
        self.stdout.write(f"Replayed {total} Connect message(s): {summary}.")

    def _republish(self, owner: ClientOrganization | None, *, dry_run: bool) -> None:
        organizations = [owner] if owner else list(ClientOrganization.objects.exclude(account_id=None).order_by("pk"))
        if dry_run:
            self.stdout.write(f"Would ask DocuSign to republish failures for {len(organizations)} organization(s).")
            return
        queued = sum(int(republish_failures.apply(args=(o.pk,)).get() or 0) for o in organizations)
        self.stdout.write(f"DocuSign queued {queued} failed message(s) of {len(organizations)} organization(s).")
