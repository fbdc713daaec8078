from django.db import migrations, models

import tenants.models


def existing_accounts_were_staffs(apps, schema_editor):
    # Before this field, a recorded account could not be changed by the client: keep it that way for existing rows.
    apps.get_model("tenants", "ClientOrganization").objects.filter(account_id__isnull=False).update(account_source="staff")


class Migration(migrations.Migration):
    dependencies = [("tenants", "0005_client_organization_base_uri_allowlist")]

    operations = [
        migrations.AlterField(model_name="clientorganization", name="name", field=models.CharField(max_length=300)),
        migrations.AddField(
            model_name="clientorganization",
            name="account_source",
            field=models.CharField(blank=True, choices=[("consent", "Recorded at consent (the system user's default account)"),
                                                        ("staff", "Set by ISV staff (a dedicated account)"),
                                                        ("client", "Chosen by the client admin"),
                                                        ("", "Not known yet")],
                                   default="", max_length=20),
        ),
        migrations.AddField(
            model_name="systemuser",
            name="account_id",
            field=tenants.models.GUIDField(blank=True, help_text="The account the last successful consent check settled on; staff see a conflict when the organization's chosen account differs.", max_length=36, null=True, validators=[tenants.models.guid_validator], verbose_name="Account found at consent"),
        ),
        migrations.AddField(
            model_name="invitation",
            name="revoked_at",
            field=models.DateTimeField(blank=True, help_text="When staff withdrew it; its link no longer works.", null=True),
        ),
        migrations.RunPython(existing_accounts_were_staffs, migrations.RunPython.noop),
    ]
