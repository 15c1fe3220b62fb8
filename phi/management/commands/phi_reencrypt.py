"""Move every encrypted value onto its scope's current data key, in resumable batches."""

from django.core.management.base import BaseCommand
from tqdm import tqdm

from phi.crypto.reencrypt import encrypted_models, reencrypt_batches


class Command(BaseCommand):
    """`manage.py phi_reencrypt [--batch-size N]`: safe to interrupt and run again."""

    help = (
        "Re-seal values still under an older data-key version. Rows already on the current "
        "key are skipped without decrypting, so an interrupted run resumes where it stopped."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, batch_size=500, no_progress=False, **options):
        total_resealed = 0
        for model, fields in encrypted_models():
            count = model._base_manager.count()
            with tqdm(
                total=count,
                desc=model._meta.label,
                unit="row",
                disable=no_progress,
                file=self.stderr,
            ) as progress:
                for batch in reencrypt_batches(model=model, fields=fields, batch_size=batch_size):
                    total_resealed += batch.resealed
                    progress.update(batch.examined)
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {total_resealed} row(s)."))
