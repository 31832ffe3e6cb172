"""The console's roles (campaigns 0007) and the alerts: Viewer reads them, Ops also sets
a brand's thresholds, recipients and webhooks and sends an alert again. The heartbeats
(operations) are read by both. Added to the groups, never replacing what ops gave them.
"""

from django.db import migrations

VIEWER_MODELS = [
    ("alerts", "brandalertsettings"),
    ("alerts", "alertthreshold"),
    ("alerts", "budgetalert"),
    ("alerts", "delivery"),
    ("alerts", "deliveryattempt"),
    ("operations", "taskheartbeat"),
]
# Send again / Retry now are "change" actions on alerts and deliveries.
OPS_MANAGES = {
    ("alerts", "brandalertsettings"): ("add", "change", "delete"),
    ("alerts", "alertthreshold"): ("add", "change", "delete"),
    ("alerts", "budgetalert"): ("change",),
    ("alerts", "delivery"): ("change",),
}


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")

    def permission(app_label, model, action):
        return Permission.objects.get(
            content_type__app_label=app_label, content_type__model=model, codename=f"{action}_{model}"
        )

    viewing = [permission(label, model, "view") for label, model in VIEWER_MODELS]
    managing = [permission(label, model, action) for (label, model), actions in OPS_MANAGES.items() for action in actions]
    Group.objects.get_or_create(name="Viewer")[0].permissions.add(*viewing)
    Group.objects.get_or_create(name="Ops")[0].permissions.add(*viewing, *managing)


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    labels = {label for label, _ in VIEWER_MODELS}
    for group in Group.objects.filter(name__in=["Ops", "Viewer"]):
        group.permissions.remove(*Permission.objects.filter(content_type__app_label__in=labels))


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0001_initial"),
        ("operations", "0001_initial"),
        ("campaigns", "0007_ops_and_viewer_groups"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
