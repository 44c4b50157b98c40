"""Rule B5: `User.language` is empty until a person picks a language or signs in.

Until now English was the only language on offer, so the stored "en" was never a
choice; it is cleared so each holder's browser language applies until they pick."""

from django.db import migrations, models


def clear_unchosen_english(apps, schema_editor):
    apps.get_model("accounts", "User").objects.filter(language="en").update(language="")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_sweep_indexes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="user",
            name="language",
            field=models.CharField(
                blank=True,
                help_text="The language of pages and emails for this person.",
                max_length=8,
                verbose_name="language",
            ),
        ),
        migrations.RunPython(clear_unchosen_english, migrations.RunPython.noop),
    ]
