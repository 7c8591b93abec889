from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0002_lease_recovery_review_history"),
    ]

    operations = [
        migrations.AddField(
            model_name="payment",
            name="gateway_reference",
            field=models.CharField(blank=True, db_index=True, max_length=255),
        ),
    ]
