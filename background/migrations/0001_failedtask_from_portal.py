# FailedTask moved from the portal app to background (issue 13). The table stays `portal_failedtask`: this migration
# changes Django's state only, and moves the model's content type (with its permissions, the groups and users granted
# them, and the admin log entries that point at it) to the new app label.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def content_type_follows(apps, schema_editor, *, old="portal", new="background"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    database = schema_editor.connection.alias
    if ContentType.objects.using(database).filter(app_label=new, model="failedtask").exists():
        return  # already there (the migration ran before, or post_migrate created it): nothing to carry over
    ContentType.objects.using(database).filter(app_label=old, model="failedtask").update(app_label=new)


def content_type_goes_back(apps, schema_editor):
    content_type_follows(apps, schema_editor, old="background", new="portal")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("portal", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='FailedTask',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('task_name', models.CharField(max_length=200)),
                        ('task_id', models.CharField(blank=True, max_length=64, verbose_name='last task id')),
                        ('args', models.JSONField(blank=True, default=list, verbose_name='arguments')),
                        ('kwargs', models.JSONField(blank=True, default=dict, verbose_name='keyword arguments')),
                        ('call_digest', models.CharField(editable=False, max_length=64)),
                        ('exception_class', models.CharField(max_length=200)),
                        ('error_code', models.CharField(blank=True, max_length=100, verbose_name='DocuSign error code')),
                        ('message', models.CharField(blank=True, max_length=300)),
                        ('retries', models.PositiveIntegerField(default=0, verbose_name='retries done')),
                        ('failure_count', models.PositiveIntegerField(default=1, verbose_name='failures')),
                        ('first_failed_at', models.DateTimeField()),
                        ('last_failed_at', models.DateTimeField()),
                        ('alerted_at', models.DateTimeField(blank=True, null=True, verbose_name='ADMINS mailed at')),
                        ('resolved', models.BooleanField(default=False)),
                        ('resolved_at', models.DateTimeField(blank=True, null=True)),
                        ('resolution', models.CharField(blank=True, max_length=20)),
                        ('resolved_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'failed task',
                        'db_table': 'portal_failedtask',
                        'ordering': ['resolved', '-last_failed_at'],
                        'indexes': [models.Index(fields=['resolved', '-last_failed_at'], name='portal_failedtask_open')],
                        'constraints': [models.UniqueConstraint(condition=models.Q(('resolved', False)), fields=('task_name', 'call_digest'), name='portal_failedtask_one_open_per_call')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_type_follows, content_type_goes_back),
    ]
