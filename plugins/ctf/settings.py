"""The ctf plugin's per-council settings."""

from core.plugin_api import Setting, SettingsSchema, int_range, max_length

NAME = "ctf"

SETTINGS = SettingsSchema(NAME, {
    "supplier_id": Setting(str, "Sendbridge", "SupplierID written in the header of exported CTFs",
                           validators=(max_length(40),)),
    "max_pupils": Setting(int, 100_000, "Largest number of pupils accepted in one imported file",
                          validators=(int_range(1, 1_000_000),)),
})
