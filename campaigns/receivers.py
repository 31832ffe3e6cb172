"""The rule applies to a campaign as soon as it exists (SPEC §2), whatever creates it.

The admin, seed_data and the API apply it themselves; this covers the rest (a shell, a
script, an ETL using the ORM): after the creating transaction commits, the new
campaign is decided. `bulk_create` sends no signal; its callers enforce (seed_data does),
and rows written straight to the table wait for the next sweep.
"""

from django.db.models.signals import post_save
from django.dispatch import receiver

from campaigns.enforcement import enforce_after_commit
from campaigns.models import Campaign

# The audit source of the decision made when a campaign is created, unless the creator
# names itself (the admin sets `_enforcement_source = "admin"` on what it saves).
CREATED_SOURCE = "created"


@receiver(post_save, sender=Campaign, dispatch_uid="campaigns.enforce_new_campaign")
def enforce_new_campaign(sender, instance: Campaign, created: bool, raw: bool = False, **kwargs) -> None:
    if created and not raw:  # raw: loaddata, whose fixtures carry their own status
        enforce_after_commit(
            campaign_ids=[instance.pk], source=getattr(instance, "_enforcement_source", CREATED_SOURCE)
        )
