"""The console's roles: group `Ops` (manage, pause, resume) and group `Viewer` (read only).

Permissions are normally created after all migrations run (post_migrate); they are
created here first so the groups get them on a fresh database too. Running it again
changes nothing: the groups and their permissions are added, never replaced.
"""

from django.db import migrations

# (app label, model) -> the actions of each group on it. Pause and resume need
# campaigns.change_campaign; the audit trail is read-only for everyone.
VIEWER_MODELS = [
    ("brands", "brand"),
    ("campaigns", "campaign"),
    ("campaigns", "campaignstatuschange"),
    ("spend", "spend"),
    ("dayparting", "daypartingschedule"),
    ("django_celery_beat", "periodictask"),
]
OPS_MANAGES = [
    ("brands", "brand"),
    ("campaigns", "campaign"),
    ("spend", "spend"),
    ("dayparting", "daypartingschedule"),
]


def _permission(apps, app_label: str, model: str, action: str):
    Permission = apps.get_model("auth", "Permission")
    return Permission.objects.get(content_type__app_label=app_label, content_type__model=model, codename=f"{action}_{model}")


def create_groups(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    viewing = [_permission(apps, label, model, "view") for label, model in VIEWER_MODELS]
    viewer, _ = Group.objects.get_or_create(name="Viewer")
    viewer.permissions.add(*viewing)

    managing = [
        _permission(apps, label, model, action)
        for label, model in OPS_MANAGES
        for action in ("add", "change", "delete")
    ]
    # Ops may also switch a beat entry off (see the README: the schedule in the admin).
    managing.append(_permission(apps, "django_celery_beat", "periodictask", "change"))
    ops, _ = Group.objects.get_or_create(name="Ops")
    ops.permissions.add(*viewing, *managing)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["Ops", "Viewer"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("brands", "0002_historicalbrand"),
        ("campaigns", "0006_historicalcampaign"),
        ("spend", "0001_initial"),
        ("dayparting", "0002_historicaldaypartingschedule"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
