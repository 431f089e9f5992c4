"""The schema of a council's own settings (``Tenant.settings``)."""

from __future__ import annotations

from core.schema import Setting, SettingsSchema, email, https_url, int_range, max_length

TENANT_SETTINGS = SettingsSchema(
    name="tenant settings",
    keys={
        "send_team_email": Setting(
            str, None, "The SEND team's e-mail address, shown to families as their contact.",
            validators=(email(), max_length(254)), optional=True,
        ),
        "send_team_phone": Setting(
            str, None, "The SEND team's telephone number, shown to families.",
            validators=(max_length(40),), optional=True,
        ),
        "local_offer_url": Setting(
            str, None, "Where the council publishes its Local Offer.", validators=(https_url(),), optional=True,
        ),
        "reminder_days_before": Setting(
            int, 10, "How many days before a statutory deadline caseworkers are reminded.",
            validators=(int_range(1, 60),),
        ),
        # statutory-rules.md section 1.3 item 2: receipt on a weekend is ambiguous in law; the
        # default (off) keeps the actual date, which gives the council the earlier deadline and
        # so protects the family.
        "deem_weekend_receipt_next_working_day": Setting(
            bool, False, "Treat a request received on a non-working day as received on the next working day.",
        ),
        # statutory-rules.md section 1.3 item 3: deemed service for post is unverified; 0 days
        # (served the day it is sent) is the family-protective default.
        "deemed_service_days_post": Setting(
            int, 0, "Days after posting that a posted notice counts as served.", validators=(int_range(0, 5),),
        ),
        # statutory-rules section 9 (issue 6): the review on release from youth custody has no
        # verified period, so it is the council's own target, never shown as statutory.
        "release_review_weeks": Setting(
            int, 4, "Weeks after release from youth custody by which the council aims to review the EHC plan "
                    "(its own target, not statutory).", validators=(int_range(1, 12),),
        ),
    },
)
